/**
 * The key service on AWS KMS (src/ports/key-service.ts): `GenerateDataKey` (AES_256) and `Decrypt`
 * under the stack's customer-managed content key, `GenerateMac` (HMAC_SHA_256) under its HMAC key.
 *
 * The KMS client is imported on first use, not at module load: the router calls KMS once per
 * container and hour, so its cold start does not pay for the client (the bundles are split into
 * chunks, and this dynamic import is one of them).
 */
import type { KMSClient, KMSClientConfig } from '@aws-sdk/client-kms';
import { RoutingManagerError } from '../errors.ts';
import type { DataKey, DataKeyService, EncryptionContext, MacService } from '../ports/key-service.ts';

export class KeyServiceNotConfiguredError extends RoutingManagerError {
  constructor(what: string) {
    super('key_service_not_configured', `no KMS key is configured for ${what}`);
    this.name = 'KeyServiceNotConfiguredError';
  }
}

export interface KmsKeyServiceOptions {
  /** Key id, ARN or alias of the symmetric key transit keys are generated under (the router's). */
  readonly contentKeyId?: string;
  /** Key id, ARN or alias of the HMAC_256 key payload-hash keys are derived from (the router's). */
  readonly payloadHashKeyId?: string;
  readonly clientConfig?: KMSClientConfig;
}

type Kms = typeof import('@aws-sdk/client-kms');

export class KmsKeyService implements DataKeyService, MacService {
  readonly #options: KmsKeyServiceOptions;
  #loaded: Promise<{ kms: Kms; client: KMSClient }> | null = null;

  constructor(options: KmsKeyServiceOptions = {}) {
    this.#options = options;
  }

  #kms(): Promise<{ kms: Kms; client: KMSClient }> {
    this.#loaded ??= import('@aws-sdk/client-kms').then((kms) => ({
      kms,
      client: new kms.KMSClient({ maxAttempts: 4, ...this.#options.clientConfig }),
    }));
    return this.#loaded;
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const keyId = this.#options.contentKeyId;
    if (!keyId) throw new KeyServiceNotConfiguredError('content keys');
    const { kms, client } = await this.#kms();
    const output = await client.send(
      new kms.GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { ...context } }),
    );
    if (!output.Plaintext || !output.CiphertextBlob) throw new KeyServiceNotConfiguredError('content keys');
    return { plaintext: output.Plaintext, wrapped: output.CiphertextBlob };
  }

  async decrypt(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const { kms, client } = await this.#kms();
    const output = await client.send(
      new kms.DecryptCommand({
        CiphertextBlob: wrapped,
        EncryptionContext: { ...context },
        // Named when known: KMS then refuses a blob wrapped under any other key.
        ...(this.#options.contentKeyId ? { KeyId: this.#options.contentKeyId } : {}),
      }),
    );
    if (!output.Plaintext) throw new KeyServiceNotConfiguredError('content keys');
    return output.Plaintext;
  }

  async mac(message: Uint8Array): Promise<Uint8Array> {
    const keyId = this.#options.payloadHashKeyId;
    if (!keyId) throw new KeyServiceNotConfiguredError('payload hashes');
    const { kms, client } = await this.#kms();
    const output = await client.send(
      new kms.GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    if (!output.Mac) throw new KeyServiceNotConfiguredError('payload hashes');
    return output.Mac;
  }

  destroy(): void {
    void this.#loaded?.then(({ client }) => client.destroy());
  }
}
