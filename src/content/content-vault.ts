/**
 * The ports in front of `RoutingContent-<Stage>`, the one table that holds what may be forgotten:
 *
 * - transit keys (`transit#<hour>`), which seal the content inside log records (sealed-content.ts);
 * - retained content (one item per job stream, TTL = recorded + retention), which a replay needs
 *   once the transit key is gone, found per user through the `byUser` index for erasure.
 *
 * The key ring caches keys per container: a key item never changes once created (conditional
 * create), so a cached key is valid until its expiry. The in-memory table below serves unit tests.
 */
import { randomBytes } from 'node:crypto';
import { type ContentKey, transitKeyOf } from './sealed-content.ts';

export interface RetainedContent {
  /** The job's log stream (`job#<jobId>`, `event#<eventId>`). */
  readonly id: string;
  readonly userId: string | null;
  readonly recordedAt: string;
  /** The content as JSON. */
  readonly content: string;
  /** Epoch seconds; DynamoDB TTL deletes the item after it (readers treat it as gone already). */
  readonly expiresAt: number;
}

/** Raw access to the key items. */
export interface ContentKeyTable {
  /** Creates the key unless one with its id exists; either way returns the key that is stored. */
  createKey(candidate: ContentKey): Promise<ContentKey>;
  readKeys(keyIds: readonly string[]): Promise<ContentKey[]>;
}

export interface ContentStore {
  /** Puts retained content and deletes erased content; an id in both is deleted. */
  write(changes: {
    readonly retain: readonly RetainedContent[];
    readonly erase: readonly string[];
  }): Promise<void>;
  read(ids: readonly string[]): Promise<Map<string, RetainedContent>>;
  /** The ids of every retained item of a user (an index query: never a scan). */
  idsOfUser(userId: string): Promise<string[]>;
}

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

export class InMemoryContentVault implements ContentKeyTable, ContentStore {
  readonly keys = new Map<string, ContentKey>();
  readonly items = new Map<string, RetainedContent>();

  async createKey(candidate: ContentKey): Promise<ContentKey> {
    const existing = this.keys.get(candidate.keyId);
    if (existing) return existing;
    this.keys.set(candidate.keyId, candidate);
    return candidate;
  }

  async readKeys(keyIds: readonly string[]): Promise<ContentKey[]> {
    return keyIds.flatMap((id) => {
      const key = this.keys.get(id);
      return key ? [key] : [];
    });
  }

  async write(changes: { retain: readonly RetainedContent[]; erase: readonly string[] }): Promise<void> {
    for (const item of changes.retain) this.items.set(item.id, { ...item });
    for (const id of changes.erase) this.items.delete(id);
  }

  async read(ids: readonly string[]): Promise<Map<string, RetainedContent>> {
    const found = new Map<string, RetainedContent>();
    for (const id of ids) {
      const item = this.items.get(id);
      if (item) found.set(id, { ...item });
    }
    return found;
  }

  async idsOfUser(userId: string): Promise<string[]> {
    return [...this.items.values()].filter((item) => item.userId === userId).map((item) => item.id);
  }
}
