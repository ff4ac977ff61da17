/**
 * A real headless Chromium for the console's end-to-end tests: Debian's `chromium` package (installed
 * by scripts/setup.sh), driven by playwright-core — no browser download. CHROMIUM_PATH overrides
 * where it is.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the tests leave their screenshots (gitignored), for a reviewer to look at each panel. */
export const SCREENSHOTS = join(new URL('../..', import.meta.url).pathname, 'tests/output/console');

export async function aHeadlessChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  mkdirSync(SCREENSHOTS, { recursive: true });
  // --no-sandbox: tests and CI run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}
