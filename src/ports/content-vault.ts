/**
 * The content vault port: `RoutingContent-<Stage>`, the one table that holds what may be forgotten.
 * Two faces, one table:
 *
 * - `ContentKeyTable`: transit keys (`transit#<hour>`), which seal the content inside log records
 *   (src/content/sealed-content.ts), cached per container by src/content/content-key-ring.ts;
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

export interface ContentVault extends ContentKeyTable, ContentStore {}

export interface ContentKey {
  readonly keyId: string;
  /** 32 random bytes. */
  readonly key: Buffer;
  /** Epoch seconds after which the key must no longer be used (and DynamoDB TTL deletes it). */
  readonly expiresAt: number;
}
