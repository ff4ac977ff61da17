// Bundles the console's page (src/console/ui: Preact + htm components, uPlot charts, its CSS) into
// one script and one stylesheet, in memory. Used by scripts/build-cli.mjs (the built CLI carries
// them inside its console chunk) and, in a checkout, by src/console/ui-assets.ts at start (never
// stale). Plain JavaScript: it must run on whatever Node runs npm.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** @param {typeof import('esbuild')} esbuild */
export async function buildConsoleUi(esbuild) {
  const result = await esbuild.build({
    entryPoints: [`${root}src/console/ui/main.ts`],
    bundle: true,
    write: false,
    outdir: 'console-ui',
    format: 'iife',
    platform: 'browser',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const text = (ext) => result.outputFiles.find((file) => file.path.endsWith(ext))?.text ?? '';
  return { script: text('.js'), styles: text('.css') };
}
