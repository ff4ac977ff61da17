/** Temporary directories of event files, for the readers of `npm run local`'s inputs. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

/**
 * A fresh directory holding `files`: a string is written as it is (to write invalid JSON), anything
 * else as JSON. Remove them all with `removeEventDirectories` (in an afterAll).
 */
export async function anEventDirectory(files: Readonly<Record<string, unknown>> = {}): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'routing-manager-events-'));
  created.push(directory);
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(directory, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return directory;
}

export async function removeEventDirectories(): Promise<void> {
  await Promise.all(created.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
}
