/** Content protection in tests: key rings and payload hashers over in-memory keys, and reading a protected record back as the projector does. */

import { createHmac } from 'node:crypto';
import { KmsKeyService } from '../../src/aws/kms-key-service.ts';
import { ContentKeyRing } from '../../src/content/content-key-ring.ts';
import { KEYED_HASH_PREFIX, PayloadHasher } from '../../src/content/payload-hasher.ts';
import { sealBindingOf, withContent } from '../../src/content/protect-record.ts';
import { openSealedContent } from '../../src/content/sealed-content.ts';
import { canonicalJson } from '../../src/intake/canonical-json.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { isDecision, type RoutingLogRecord } from '../../src/log/routing-records.ts';
import { InMemoryKeyService } from '../../src/memory/in-memory-key-service.ts';
import type { ContentKeyTable, HashSeedTable } from '../../src/ports/content-vault.ts';

export const TEST_STAGE = 'test';

/** One key service per test file is enough: rings over the same one open each other's keys. */
export const testKeyService = new InMemoryKeyService();

const rings = new WeakMap<ContentKeyTable, WeakMap<InMemoryKeyService, ContentKeyRing>>();

/**
 * A key ring as a router container has it: asked again for the same table and key service, the
 * same ring (one container, instance `i1`), as a real container keeps its ring; `instance` makes another.
 */
export function contentKeyRing(
  table: ContentKeyTable,
  keys: InMemoryKeyService = testKeyService,
  instance?: string,
): ContentKeyRing {
  if (instance) return new ContentKeyRing(table, keys, { stage: TEST_STAGE, instance });
  const byKeys = rings.get(table) ?? new WeakMap<InMemoryKeyService, ContentKeyRing>();
  rings.set(table, byKeys);
  const ring = byKeys.get(keys) ?? new ContentKeyRing(table, keys, { stage: TEST_STAGE, instance: 'i1' });
  byKeys.set(keys, ring);
  return ring;
}

export const payloadHasher = (
  seeds: HashSeedTable,
  keys: InMemoryKeyService = testKeyService,
): PayloadHasher => new PayloadHasher(seeds, keys, { stage: TEST_STAGE });

export async function openedRecord<R extends RoutingLogRecord | undefined>(
  record: R,
  table: ContentKeyTable,
  keys: InMemoryKeyService = testKeyService,
): Promise<R> {
  if (!record || !isDecision(record) || !record.data.content) return record;
  const opened = await contentKeyRing(table, keys, 'reader').openingKeys(
    [record.data.content.keyId],
    new Date(0),
  );
  const key = opened.get(record.data.content.keyId);
  if (!key) throw new Error(`no key ${record.data.content.keyId} in the vault`);
  return withContent(record, openSealedContent(record.data.content, key, sealBindingOf(record))) as R;
}

/** A keyed hash of the shape the router stores, for building records in tests (fixed test key). */
export const testPayloadHash = (detail: unknown): string =>
  `${KEYED_HASH_PREFIX}${createHmac('sha256', 'test-key')
    .update(canonicalJson(detail).text ?? 'undefined')
    .digest('base64url')}`;

/**
 * The router's content ports on a local stack: transit keys and payload-hash keys from the stack's
 * KMS keys on moto (real KMS emulation, no fake), as src/handlers/router.ts wires them.
 */
export function stackContentPorts(stack: LocalStack, vault: ContentKeyTable & HashSeedTable) {
  const kms = new KmsKeyService({
    contentKeyId: stack.keys.content,
    payloadHashKeyId: stack.keys.payloadHash,
  });
  return {
    contentKeys: new ContentKeyRing(vault, kms, { stage: stack.stage }),
    payloadHashes: new PayloadHasher(vault, kms, { stage: stack.stage }),
    kms,
  };
}

/** The router's `contentKeys` and `payloadHashes` on a local stack (its KMS keys on moto). */
export function routerContentPorts(stack: LocalStack, vault: ContentKeyTable & HashSeedTable) {
  const { contentKeys, payloadHashes } = stackContentPorts(stack, vault);
  return { contentKeys, payloadHashes };
}

/** The router's `contentKeys` and `payloadHashes` over in-memory keys (unit tests). */
export function inMemoryContentPorts(
  vault: ContentKeyTable & HashSeedTable,
  keys: InMemoryKeyService = testKeyService,
) {
  return { contentKeys: contentKeyRing(vault, keys), payloadHashes: payloadHasher(vault, keys) };
}
