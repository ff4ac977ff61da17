#!/usr/bin/env node
// The `routing-manager` command. Runs the built CLI (dist/routing-manager.mjs: `npm run build`,
// also run by `npm ci` / `npm install` as `prepare`) on Node.js 20 or newer. In a checkout that was
// never built, a Node that runs TypeScript (22.18+, 23.6+) runs the sources instead.
const MIN_NODE_MAJOR = 20;
const major = Number(process.versions.node.split('.')[0]);

async function load() {
  try {
    return await import('../dist/routing-manager.mjs');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('routing-manager.mjs'))
      throw error;
  }
  if (process.features?.typescript) return import('../src/cli/main.ts');
  return null;
}

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
