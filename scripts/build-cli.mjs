#!/usr/bin/env node
// Builds the operator CLI into self-contained ES modules in dist/: routing-manager.mjs (the entry
// bin/routing-manager.mjs loads) and the chunks it imports on demand — the `console` verb's server
// and page live in their own chunk, so no other verb loads or parses them. Runs on Node.js 20 or
// newer. Run by `npm run build`, and by npm itself as the `prepare` step of `npm ci` /
// `npm install`. Plain JavaScript on purpose: it must run on whatever Node runs npm.
// Usage: node scripts/build-cli.mjs [outfile]   (the chunks go beside outfile)
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { buildConsoleUi } from './build-console-ui.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = process.argv[2] ?? `${root}dist/routing-manager.mjs`;

// The console page, bundled now: the built CLI needs neither esbuild nor the UI sources.
const ui = await buildConsoleUi(esbuild);
const prebuiltConsoleUi = {
  name: 'prebuilt-console-ui',
  setup(build) {
    build.onResolve({ filter: /\/ui-assets\.ts$/ }, (args) => ({ path: args.path, namespace: 'console-ui' }));
    build.onLoad({ filter: /.*/, namespace: 'console-ui' }, () => ({
      contents: `export const uiAssets = async () => (${JSON.stringify(ui)});`,
      loader: 'js',
    }));
  },
};

// Chunk names carry a content hash: drop the previous build's, so none is left behind.
rmSync(join(dirname(outfile), 'chunks'), { recursive: true, force: true });

await esbuild.build({
  entryPoints: { [basename(outfile).replace(/\.mjs$/, '')]: `${root}src/cli/main.ts` },
  outdir: dirname(outfile),
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
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
  plugins: [prebuiltConsoleUi],
  legalComments: 'none',
  logLevel: 'warning',
});
