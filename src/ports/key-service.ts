/**
 * The key-management port (AWS KMS in production: src/aws/kms-key-service.ts; in-memory twin:
 * src/memory/in-memory-key-service.ts). Both are used once per container and hour, never per job:
 *
 * - `DataKeyService`: envelope encryption of the transit keys that seal user content. A data key is
 *   generated under the stack's customer-managed key; only its wrapped form is ever stored. The
 *   encryption context binds the stage and the key id, so a wrapped key copied to another id or
 *   stack does not unwrap (and an IAM condition can name the stage).
 * - `MacService`: a keyed MAC whose key never leaves the key service; the payload-hash keys are
 *   derived from it (src/content/payload-hasher.ts).
 */

/** KMS encryption context: string pairs bound into the wrapped key as authenticated data. */
export type EncryptionContext = Readonly<Record<string, string>>;

export interface DataKey {
  /** 32 bytes; kept in memory only. */
  readonly plaintext: Uint8Array;
  /** The data key encrypted under the customer-managed key: what is stored. */
  readonly wrapped: Uint8Array;
}

export interface DataKeyService {
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  /** The plaintext of a wrapped key; fails (a typed error of the adapter) on any other context. */
  decrypt(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
}

export interface MacService {
  /** HMAC-SHA-256 of `message` under the service's key (32 bytes). */
  mac(message: Uint8Array): Promise<Uint8Array>;
}
