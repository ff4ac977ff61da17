#!/usr/bin/env node
// Builds the operator CLI into one self-contained ES module, dist/routing-manager.mjs, that runs on
// Node.js 20 or newer (bin/routing-manager.mjs loads it). Run by `npm run build`, and by npm itself
// as the `prepare` step of `npm ci` / `npm install`. Plain JavaScript on purpose: it must run on
// whatever Node runs npm. Usage: node scripts/build-cli.mjs [outfile]
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = process.argv[2] ?? `${root}dist/routing-manager.mjs`;

await build({
  entryPoints: [`${root}src/cli/main.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The oldest Node the CLI supports; bin/routing-manager.mjs checks the version first.
  target: 'node20',
  mainFields: ['module', 'main'],
  // CommonJS dependencies call require() for Node built-ins: give the ES module one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
