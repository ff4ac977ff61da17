#!/usr/bin/env node
// The `routing-manager` command, on Node.js 20 or newer: the built CLI (dist/routing-manager.mjs,
// made by `npm run build`, which `npm ci` / `npm install` run as `prepare`), or in a checkout on a
// Node that runs TypeScript (22.18+, 23.6+), the sources.
const MIN_NODE_MAJOR = 20;
const major = Number(process.versions.node.split('.')[0]);

const exists = async (relative) => {
  const { access } = await import('node:fs/promises');
  return access(new URL(relative, import.meta.url)).then(
    () => true,
    () => false,
  );
};

// A checkout on a Node that runs TypeScript runs its sources (never a stale build); an installed
// copy (bin/ and dist/ only) or an older Node runs the build.
async function load() {
  if (process.features?.typescript && (await exists('../src/cli/main.ts')))
    return import('../src/cli/main.ts');
  if (await exists('../dist/routing-manager.mjs')) return import('../dist/routing-manager.mjs');
  return null;
}

// The AWS SDK warns on every run under Node < 22 that its releases after January 2027 will need 22.
// The CLI supports Node 20 on purpose (README, "Operator CLI"), and a banner on every command is
// noise an operator learns to skip; an explicit setting of the variable is left alone.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

if (major < MIN_NODE_MAJOR) {
  process.stderr.write(
    `routing-manager: needs Node.js ${MIN_NODE_MAJOR} or newer; this is ${process.version}. ` +
      'Install a newer Node.js (e.g. `nvm install 24`), or run it through the project: `npm run -s cli -- …`.\n',
  );
  process.exitCode = 1;
} else {
  const cli = await load();
  if (cli) {
    process.exitCode = await cli.runCli(process.argv.slice(2), cli.processIo());
  } else {
    process.stderr.write(
      'routing-manager: the CLI is not built. In the project directory run `npm ci` (or `npm run build`), then try again.\n',
    );
    process.exitCode = 1;
  }
}
