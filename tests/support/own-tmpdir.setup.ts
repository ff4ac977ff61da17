/**
 * Every test file runs with a temporary directory of its own as TMPDIR, removed with all it holds
 * once the file's tests are done. `os.tmpdir()` reads TMPDIR on every call and child processes
 * inherit it, so a temporary file that a test — or the code it drives — makes and forgets to remove
 * never outlives the run (the suite used to leave hundreds of `aws-*`, `rules-*`, `fake-sam-*`, … in
 * /tmp per run). Tests still remove what they make; this is the net under them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outer = process.env.TMPDIR;
const own = mkdtempSync(join(tmpdir(), 'routing-manager-test-'));
process.env.TMPDIR = own;

afterAll(() => {
  if (outer === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outer;
  rmSync(own, { recursive: true, force: true, maxRetries: 3 });
});
