/**
 * The content vault port: `RoutingContent-<Stage>`, the one table that holds what may be forgotten.
 * Two faces, one table:
 *
 * - `ContentKeyTable`: wrapped transit keys (`transit#<hour>#<instance>`), which seal the content
 *   inside log records (src/content/sealed-content.ts), unwrapped and cached per container by
 *   src/content/content-key-ring.ts; and the payload-hash seeds (`hash#<hour>`,
 *   src/content/payload-hasher.ts). No plaintext key is ever stored;
 * - `ContentStore`: retained content (one item per job stream, TTL = recorded + retention), which a
 *   replay needs once the transit key is gone, found per user for erasure.
 *
 * Adapter: src/aws/dynamodb-content-vault.ts; in-memory twin: src/memory/in-memory-content-vault.ts.
 * Both pass tests/support/content-vault-contract.ts.
 */

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

/**
 * What an erasure leaves (`forget`, or the projector on a ContentErased record): the stream's item
 * replaced by a marker without content, kept without expiry, so the projector can tell on any later
 * path — retry, revision, replay, re-drive — that the stream holds a ContentErased record, with the
 * one read it already makes.
 */
export interface ErasedContent {
  readonly id: string;
  readonly erased: true;
}

export type StoredContent = RetainedContent | ErasedContent;

export const isErased = (item: StoredContent | undefined): item is ErasedContent =>
  item !== undefined && 'erased' in item && item.erased === true;

/** A transit key as stored: wrapped by KMS (its plaintext never leaves memory). */
export interface WrappedContentKey {
  readonly keyId: string;
  readonly wrapped: Uint8Array;
  /** Epoch seconds after which the key must no longer be used (and DynamoDB TTL deletes it). */
  readonly expiresAt: number;
}

/** A key item read back: wrapped, or (written before envelope encryption) a legacy key in clear. */
export type StoredContentKey =
  | ({ readonly kind: 'wrapped' } & WrappedContentKey)
  | { readonly kind: 'legacy'; readonly keyId: string; readonly key: Buffer; readonly expiresAt: number };

/** The random seed of an hour's payload-hash key (useless without the KMS HMAC key). */
export interface HashSeed {
  readonly id: string;
  readonly seed: Uint8Array;
  readonly expiresAt: number;
}

/** Raw access to the key items. */
export interface ContentKeyTable {
  /** Stores a new wrapped key (ids are unique per container: a second write of one id fails). */
  createKey(key: WrappedContentKey): Promise<void>;
  readKeys(keyIds: readonly string[]): Promise<StoredContentKey[]>;
}

/** The payload-hash seeds: one per hour, shared by every router container of the stage. */
export interface HashSeedTable {
  /** Creates the seed unless one with its id exists; either way returns the seed that is stored. */
  createSeed(candidate: HashSeed): Promise<HashSeed>;
  /** The stored seed, or null once its TTL removed it. */
  readSeed(id: string): Promise<HashSeed | null>;
}

/**
 * What `retainNew` did with one id: stored it now, or found an item already there — the same content
 * retained by an earlier delivery, or the erasure marker `forget` left — which it did not touch; or
 * could not tell (the entry failed alone: its neighbours' answers stand).
 */
export type RetainOutcome =
  | { readonly kind: 'retained' }
  | { readonly kind: 'existing'; readonly item: StoredContent }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

export interface ContentStore {
  /**
   * Retains each item unless its id already has one, never overwriting it, and answers per id. The
   * projector's erasure check for a fresh decision: an erased job's marker refuses the write, so no
   * read is needed before it (docs/DATA_PROTECTION.md, "Erasure is enforced where the effect happens").
   */
  retainNew(items: readonly RetainedContent[]): Promise<Map<string, RetainOutcome>>;
  /** Puts retained content and replaces erased content by its erasure marker; an id in both is erased. */
  write(changes: {
    readonly retain: readonly RetainedContent[];
    readonly erase: readonly string[];
  }): Promise<void>;
  read(ids: readonly string[]): Promise<Map<string, StoredContent>>;
  /**
   * The ids of every retained item of a user, read consistently (content retained a moment ago is
   * found). Operator time only (`forget`): on DynamoDB a scan that returns ids, no per-job index.
   */
  idsOfUser(userId: string): Promise<string[]>;
}

export interface ContentVault extends ContentKeyTable, HashSeedTable, ContentStore {}

/** A transit key as a reader or the router holds it in memory (never stored in this form). */
export interface ContentKey {
  readonly keyId: string;
  /** 32 bytes, in memory only (unwrapped by KMS; a legacy key was stored in clear). */
  readonly key: Buffer;
  /** `legacy`: a key stored in clear before envelope encryption; its records bind the stream only. */
  readonly format?: 'envelope' | 'legacy';
  /** Epoch seconds after which the key must no longer be used (and DynamoDB TTL deletes it). */
  readonly expiresAt: number;
}
