/**
 * The key ring over the content vault's key table (src/ports/content-vault.ts): transit keys
 * (`transit#<hour>`) seal the content inside log records (sealed-content.ts). It caches keys per
 * container: a key item never changes once created (conditional create), so a cached key is valid
 * until its expiry.
 */
import { randomBytes } from 'node:crypto';
import type { ContentKey, ContentKeyTable, RetainedContent } from '../ports/content-vault.ts';
import { transitKeyOf } from './sealed-content.ts';

const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

export class ContentKeyRing {
  readonly #table: ContentKeyTable;
  readonly #randomKey: () => Buffer;
  readonly #cache = new Map<string, ContentKey>();

  constructor(table: ContentKeyTable, randomKey: () => Buffer = () => randomBytes(32)) {
    this.#table = table;
    this.#randomKey = randomKey;
  }

  /** The key sealing records made at `at`: one table call per container and hour, none per job. */
  async sealingKey(at: Date): Promise<ContentKey> {
    const { keyId, expiresAt } = transitKeyOf(at);
    const cached = this.#cache.get(keyId);
    if (cached) return cached;
    const key = await this.#table.createKey({ keyId, key: this.#randomKey(), expiresAt });
    this.#cache.set(keyId, key);
    return key;
  }

  /** The keys that still exist and are unexpired at `now`; a missing id has been shredded. */
  async openingKeys(keyIds: readonly string[], now: Date): Promise<Map<string, ContentKey>> {
    const live = (key: ContentKey) => key.expiresAt > epochSeconds(now);
    const missing = [...new Set(keyIds)].filter((id) => !this.#cache.has(id));
    if (missing.length > 0) {
      for (const key of await this.#table.readKeys(missing)) this.#cache.set(key.keyId, key);
    }
    const found = new Map<string, ContentKey>();
    for (const id of keyIds) {
      const key = this.#cache.get(id);
      if (key && live(key)) found.set(id, key);
    }
    return found;
  }
}

/** Whether retained content is still within its retention at `now`. */
export const isRetained = (item: RetainedContent | undefined, now: Date): item is RetainedContent =>
  item !== undefined && item.expiresAt > epochSeconds(now);
