/**
 * The schema library of the inbound contract, the routing table and the health signals is
 * `zod/mini`, zod's tree-shakable build (functions instead of methods, so a bundle holds only the
 * checks it uses: ~30 KB instead of ~95 KB of the router's bundle; docs/PERFORMANCE.md,
 * "Dependencies"). Each schema module imports it as a namespace (`import * as z from 'zod/mini'`:
 * re-exporting the namespace would defeat tree shaking) and imports this module, which sets the
 * English messages once: classic zod loads them on import, mini does not, and field errors are
 * recorded in rejections, so they must read the same.
 */

import { en } from 'zod/locales';
import * as z from 'zod/mini';

z.config(en());

/** The schema with a description for the published JSON Schema (a copy: `schema` stays as it was). */
export function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  const copy = schema.clone() as T;
  z.globalRegistry.add(copy, { description });
  return copy;
}
