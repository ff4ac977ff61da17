/** The generated sections of the docs: a bench replaces what stands between its two markers, nothing else. */
import { readFileSync, writeFileSync } from 'node:fs';

export function writeBetweenMarkers(
  path: string,
  markers: { readonly begin: string; readonly end: string },
  section: string,
): void {
  const doc = readFileSync(path, 'utf8');
  const begin = doc.indexOf(markers.begin);
  const end = doc.indexOf(markers.end);
  if (begin < 0 || end < begin)
    throw new Error(`${path}: the markers ${markers.begin} … ${markers.end} are missing`);
  writeFileSync(path, `${doc.slice(0, begin)}${section}${doc.slice(end + markers.end.length)}`);
}
