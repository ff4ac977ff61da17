/**
 * The key ring over the content vault's key items (src/ports/content-vault.ts) and the key service
 * (src/ports/key-service.ts, AWS KMS): transit keys (`transit#<hour>#<instance>`) seal the content
 * inside log records (sealed-content.ts).
 *
 * Envelope encryption: a router container asks KMS for one data key per hour (`GenerateDataKey`,
 * encryption context = stage + key id) and stores only the wrapped key; the plaintext stays in this
 * container's memory. Each container has its own key id, so no container ever needs another's
 * plaintext (the router has no `kms:Decrypt`). Readers (projector, operators) fetch wrapped keys
 * and unwrap each once per container (`Decrypt`), caching it until it expires. Deleting the wrapped
 * key item (its TTL does) shreds every record it sealed.
 */
import { randomBytes } from 'node:crypto';
import {
  type ContentKey,
  type ContentKeyTable,
  isErased,
  type RetainedContent,
  type StoredContent,
  type StoredContentKey,
} from '../ports/content-vault.ts';
import type { DataKeyService, EncryptionContext } from '../ports/key-service.ts';
import { transitKeyOf } from './sealed-content.ts';

const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** The KMS encryption context of a transit key: what the IAM conditions name (`kms:EncryptionContext:stage`). */
export const transitKeyContext = (stage: string, keyId: string): EncryptionContext => ({
  stage,
  keyId,
  purpose: 'routing-manager-content',
});

export interface ContentKeyRingOptions {
  readonly stage: string;
  /** This container's id in its key ids (random, so two containers never share a key item). */
  readonly instance?: string;
}

export class ContentKeyRing {
  readonly #table: ContentKeyTable;
  readonly #keys: DataKeyService;
  readonly #stage: string;
  readonly #instance: string;
  readonly #cache = new Map<string, ContentKey>();
  readonly #creating = new Map<string, Promise<ContentKey>>();

  constructor(table: ContentKeyTable, keys: DataKeyService, options: ContentKeyRingOptions) {
    this.#table = table;
    this.#keys = keys;
    this.#stage = options.stage;
    this.#instance = options.instance ?? randomBytes(6).toString('hex');
  }

  /**
   * The key sealing records made at `at`: one KMS call and one PutItem per container and hour.
   * Concurrent invocations of one container share the one creation in flight (single flight).
   */
  async sealingKey(at: Date): Promise<ContentKey> {
    const { keyId, expiresAt } = transitKeyOf(at, this.#instance);
    const cached = this.#cache.get(keyId);
    if (cached) return cached;
    let creating = this.#creating.get(keyId);
    if (!creating) {
      creating = this.#createKey(keyId, expiresAt).finally(() => this.#creating.delete(keyId));
      this.#creating.set(keyId, creating);
    }
    return creating;
  }

  async #createKey(keyId: string, expiresAt: number): Promise<ContentKey> {
    const dataKey = await this.#keys.generateDataKey(transitKeyContext(this.#stage, keyId));
    await this.#table.createKey({ keyId, wrapped: dataKey.wrapped, expiresAt });
    const key: ContentKey = { keyId, key: Buffer.from(dataKey.plaintext), expiresAt, format: 'envelope' };
    this.#cache.set(keyId, key);
    return key;
  }

  /** The keys that still exist and are unexpired at `now`; a missing id has been shredded. */
  async openingKeys(keyIds: readonly string[], now: Date): Promise<Map<string, ContentKey>> {
    const live = (key: { expiresAt: number }) => key.expiresAt > epochSeconds(now);
    const missing = [...new Set(keyIds)].filter((id) => !this.#cache.has(id));
    if (missing.length > 0) {
      const stored = (await this.#table.readKeys(missing)).filter(live);
      const opened = await Promise.all(stored.map((item) => this.#unwrap(item)));
      for (const key of opened) this.#cache.set(key.keyId, key);
    }
    const found = new Map<string, ContentKey>();
    for (const id of keyIds) {
      const key = this.#cache.get(id);
      if (key && live(key)) found.set(id, key);
    }
    return found;
  }

  async #unwrap(item: StoredContentKey): Promise<ContentKey> {
    if (item.kind === 'legacy')
      return { keyId: item.keyId, key: item.key, expiresAt: item.expiresAt, format: 'legacy' };
    const plaintext = await this.#keys.decrypt(item.wrapped, transitKeyContext(this.#stage, item.keyId));
    return { keyId: item.keyId, key: Buffer.from(plaintext), expiresAt: item.expiresAt, format: 'envelope' };
  }
}

/** Whether stored content is retained content still within its retention at `now` (not an erasure marker). */
export const isRetained = (item: StoredContent | undefined, now: Date): item is RetainedContent =>
  item !== undefined && !isErased(item) && item.expiresAt > epochSeconds(now);
