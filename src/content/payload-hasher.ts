/**
 * The payload hash of a decision record — what tells a redelivered submission (`duplicate`) from
 * the same jobId with other content (`conflicting_duplicate`) — as a keyed hash whose key can be
 * destroyed: HMAC-SHA-256 of the detail's canonical JSON under an hourly key.
 *
 * The hour's key is derived, never stored: KMS `GenerateMac` (the stack's HMAC key, which never
 * leaves KMS) over the stage, the hour and a random seed stored in the content table
 * (`hash#<hour>`, TTL as the transit keys). Every router container of the stage derives the same
 * key with one KMS call per hour, so duplicates are recognised across containers; a different stack
 * (its own HMAC key and seeds) gives a different hash for the same submission. Once the seed's TTL
 * removed it, nobody — not even a holder of the HMAC key — can recompute the hour's key, so a hash
 * in the log, its backups or its stream can no longer confirm a guess of user and prompt.
 *
 * Records written before this (`payloadHash` = 64 hex digits) keep their unkeyed SHA-256; a
 * redelivery of one is compared with the same function, in memory only.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { canonicalJson } from '../intake/canonical-json.ts';
import type { HashSeedTable } from '../ports/content-vault.ts';
import type { MacService } from '../ports/key-service.ts';
import { keyHourOf } from './sealed-content.ts';

export const HASH_SEED_PREFIX = 'hash#';
/** Marks a keyed hash (`k1:` + base64url HMAC); a legacy unkeyed hash is 64 hex digits. */
export const KEYED_HASH_PREFIX = 'k1:';

const detailText = (detail: unknown): string => canonicalJson(detail).text ?? 'undefined';

/** The unkeyed SHA-256 older records carry (compared in memory only, never stored any more). */
export const legacyPayloadHash = (detail: unknown): string =>
  createHash('sha256').update(detailText(detail)).digest('hex');

export interface PayloadHasherOptions {
  readonly stage: string;
  readonly randomSeed?: () => Uint8Array;
}

export class PayloadHasher {
  readonly #seeds: HashSeedTable;
  readonly #mac: MacService;
  readonly #stage: string;
  readonly #randomSeed: () => Uint8Array;
  /** Hour → its derived key (null: its seed is gone), or its derivation in flight. */
  readonly #keys = new Map<string, Promise<Buffer | null>>();

  constructor(seeds: HashSeedTable, mac: MacService, options: PayloadHasherOptions) {
    this.#seeds = seeds;
    this.#mac = mac;
    this.#stage = options.stage;
    this.#randomSeed = options.randomSeed ?? (() => new Uint8Array(randomBytes(32)));
  }

  /** The keyed hash of a detail received at `at` (its hour's key: one KMS call per container-hour). */
  async hash(detail: unknown, at: Date): Promise<string> {
    const key = await this.#keyOf(at, null);
    // A created seed always derives a key; the type says null only for a shredded one.
    return keyedHash(key as Buffer, detail);
  }

  /**
   * Whether `detail` is the submission a stored record hashed: true/false, or null when that can
   * no longer be told at `now` (the record's hour key has been shredded: its seed expired).
   */
  async sameSubmission(
    stored: { payloadHash: string; recordedAt: string },
    detail: unknown,
    now: Date,
  ): Promise<boolean | null> {
    if (!stored.payloadHash.startsWith(KEYED_HASH_PREFIX))
      return stored.payloadHash === legacyPayloadHash(detail);
    const key = await this.#keyOf(new Date(stored.recordedAt), now);
    return key ? keyedHash(key, detail) === stored.payloadHash : null;
  }

  /**
   * The hour key of `at`: created when `readAt` is null (hashing), else read as it stands at
   * `readAt`. Concurrent invocations of one container share the derivation in flight; a failed one
   * is forgotten, so the next job tries again.
   */
  async #keyOf(at: Date, readAt: Date | null): Promise<Buffer | null> {
    const { hour, expiresAt } = keyHourOf(at);
    // DynamoDB's TTL deletes lazily: a seed past its expiry counts as shredded.
    if (readAt && expiresAt <= Math.floor(readAt.getTime() / 1000)) return null;
    const cached = this.#keys.get(hour);
    if (cached) {
      const key = await cached;
      if (key || readAt) return key;
    }
    const deriving = this.#derive(hour, expiresAt, readAt === null).catch((error: unknown) => {
      this.#keys.delete(hour);
      throw error;
    });
    this.#keys.set(hour, deriving);
    return deriving;
  }

  async #derive(hour: string, expiresAt: number, create: boolean): Promise<Buffer | null> {
    const id = `${HASH_SEED_PREFIX}${hour}`;
    const seed = create
      ? await this.#seeds.createSeed({ id, seed: this.#randomSeed(), expiresAt })
      : await this.#seeds.readSeed(id);
    return seed ? Buffer.from(await this.#mac.mac(derivationMessage(this.#stage, hour, seed.seed))) : null;
  }
}

const derivationMessage = (stage: string, hour: string, seed: Uint8Array): Uint8Array =>
  Buffer.concat([Buffer.from(`routing-manager/payload-hash/v1\n${stage}\n${hour}\n`), seed]);

const keyedHash = (key: Buffer, detail: unknown): string =>
  `${KEYED_HASH_PREFIX}${createHmac('sha256', key).update(detailText(detail)).digest('base64url')}`;
