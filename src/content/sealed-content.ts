/**
 * Sealing user content into an immutable log record: AES-256-GCM under a transit key — a data key
 * from AWS KMS (`GenerateDataKey` under the stack's customer-managed key), made by a router container
 * for one hour of its records and kept wrapped in the content table until the hour's end plus
 * TRANSIT_KEY_GRACE_HOURS. The projector opens fresh records with it (the stream keeps records
 * 24 h); once the wrapped key's TTL has removed it, the ciphertext in the log — and in its
 * point-in-time backups — can no longer be opened by anyone (crypto-shredding).
 *
 * Every seal draws a random 96-bit IV (NIST SP 800-38D's limit of 2^32 random IVs per key is far
 * beyond one container-hour of jobs). The additional authenticated data binds the record: its
 * stream, version, the key id and a hash of its clear facts, so a blob moved to another record,
 * another version of the same job or beside other facts does not open.
 *
 * Keys written before envelope encryption (`legacy`: stored in clear) still open the records they
 * sealed, with the AAD of that time (the stream only), until they expire (≤ 48 h after deploy).
 */

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { RoutingManagerError } from '../errors.ts';
import type { SealedContent } from '../log/routing-records.ts';
import type { ContentKey } from '../ports/content-vault.ts';
import type { JsonObject } from './job-content.ts';

export const TRANSIT_KEY_PREFIX = 'transit#';
/** Hours a transit key outlives its hour: the stream's 24 h retention plus a day of projector lag. */
export const TRANSIT_KEY_GRACE_HOURS = 48;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class ContentSealError extends RoutingManagerError {
  constructor(message: string) {
    super('content_seal_failed', message);
    this.name = 'ContentSealError';
  }
}

/** What a sealed blob is bound to: the record it is sealed into. */
export interface SealBinding {
  readonly stream: string;
  readonly version: number;
  /** The record's clear facts (`job`), as stored; null when the record keeps none. */
  readonly job: string | null;
}

/** The UTC hour records made at `at` belong to (`yyyy-mm-ddThh`), and when its keys expire. */
export function keyHourOf(at: Date): { hour: string; expiresAt: number } {
  const hour = at.toISOString().slice(0, 13);
  const hourEnd = Date.parse(`${hour}:00:00.000Z`) / 1000 + 3600;
  return { hour, expiresAt: hourEnd + TRANSIT_KEY_GRACE_HOURS * 3600 };
}

/** The transit key id of a container's records made at `at` (`instance`: the container's own id). */
export function transitKeyOf(at: Date, instance: string): { keyId: string; expiresAt: number } {
  const { hour, expiresAt } = keyHourOf(at);
  return { keyId: `${TRANSIT_KEY_PREFIX}${hour}#${instance}`, expiresAt };
}

const additionalData = (key: ContentKey, binding: SealBinding): Buffer =>
  key.format === 'legacy'
    ? Buffer.from(binding.stream)
    : Buffer.from(
        [
          'rm-seal-v2',
          binding.stream,
          String(binding.version),
          key.keyId,
          createHash('sha256')
            .update(binding.job ?? '')
            .digest('hex'),
        ].join('\n'),
      );

export function sealContent(content: JsonObject, key: ContentKey, binding: SealBinding): SealedContent {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(additionalData(key, binding));
  const data = Buffer.concat([
    cipher.update(JSON.stringify(content), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  // Plain Uint8Arrays, as DynamoDB reads binary attributes back (a Buffer would compare unequal).
  return { keyId: key.keyId, iv: new Uint8Array(iv), data: new Uint8Array(data) };
}

/** Opens sealed content; a wrong key, record or tampered blob is a ContentSealError (no content in it). */
export function openSealedContent(sealed: SealedContent, key: ContentKey, binding: SealBinding): JsonObject {
  try {
    const data = Buffer.from(sealed.data);
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(sealed.iv));
    decipher.setAAD(additionalData(key, binding));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(data.subarray(0, data.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return JSON.parse(plain.toString('utf8')) as JsonObject;
  } catch {
    throw new ContentSealError(
      `sealed content of ${binding.stream} v${binding.version} does not open with ${key.keyId}`,
    );
  }
}
