/**
 * The key service in memory, for unit tests: wraps data keys with AES-256-GCM under a random master
 * key (the encryption context is the authenticated data, as KMS binds it) and MACs with HMAC-SHA-256
 * under another. It counts its calls, so tests can show there is none per job.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { DataKey, DataKeyService, EncryptionContext, MacService } from '../ports/key-service.ts';

const contextBytes = (context: EncryptionContext) =>
  Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))));

export class InMemoryKeyService implements DataKeyService, MacService {
  readonly #master = randomBytes(32);
  readonly #macKey = randomBytes(32);
  calls = { generateDataKey: 0, decrypt: 0, mac: 0 };

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    this.calls.generateDataKey++;
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#master, iv);
    cipher.setAAD(contextBytes(context));
    const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { plaintext: new Uint8Array(plaintext), wrapped: new Uint8Array(sealed) };
  }

  async decrypt(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    this.calls.decrypt++;
    const data = Buffer.from(wrapped);
    const decipher = createDecipheriv('aes-256-gcm', this.#master, data.subarray(0, 12));
    decipher.setAAD(contextBytes(context));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return new Uint8Array(
      Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]),
    );
  }

  async mac(message: Uint8Array): Promise<Uint8Array> {
    this.calls.mac++;
    return new Uint8Array(createHmac('sha256', this.#macKey).update(message).digest());
  }
}
