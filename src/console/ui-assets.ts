/**
 * The console page's script and stylesheet. In a checkout they are bundled from src/console/ui at
 * start with the project's esbuild (a devDependency: ~0.3 s, never stale); the built CLI
 * (scripts/build-cli.mjs) replaces this module with the same bundle made at build time, so an
 * installed copy needs neither esbuild nor the sources. Either way every asset is served by the
 * console itself: the page loads nothing from anywhere else.
 */
export interface UiAssets {
  readonly script: string;
  readonly styles: string;
}

export async function uiAssets(): Promise<UiAssets> {
  const [esbuild, { buildConsoleUi }] = await Promise.all([
    import('esbuild'),
    import('../../scripts/build-console-ui.mjs'),
  ]);
  return buildConsoleUi(esbuild);
}
