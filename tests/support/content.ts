/** Reading a protected record back as the projector does (its sealed content opened). */

import { withContent } from '../../src/content/protect-record.ts';
import { openSealedContent } from '../../src/content/sealed-content.ts';
import { isDecision, type RoutingLogRecord } from '../../src/log/routing-records.ts';
import type { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';

export function openedRecord<R extends RoutingLogRecord | undefined>(
  record: R,
  vault: InMemoryContentVault,
): R {
  if (!record || !isDecision(record) || !record.content) return record;
  const key = vault.keys.get(record.content.keyId);
  if (!key) throw new Error(`no key ${record.content.keyId} in the vault`);
  return withContent(record, openSealedContent(record.content, key, record.stream)) as R;
}
