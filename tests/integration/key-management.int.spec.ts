/**
 * Envelope encryption and keyed hashes with the production wiring (src/handlers/router.ts,
 * routerDependencies) against moto's KMS and DynamoDB Local: no plaintext key reaches any table, a
 * wrapped key opens only under its own encryption context, and the same submission on two stacks
 * gives different stored hashes (docs/DATA_PROTECTION.md).
 */

import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { transitKeyContext } from '../../src/content/content-key-ring.ts';
import { createRouterHandler, routerDependencies } from '../../src/handlers/router.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { handlerEnvironment, type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';
import { isDecision } from '../../src/log/routing-records.ts';
import { recordFromItem } from '../../src/log/stored-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { uniqueStage } from '../support/local-aws.ts';
import { silenceHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const documents = createDocumentClient();
const kms = new KMSClient({});
let stacks: LocalStack[];

async function scanAll(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: documents }, { TableName: table }))
    items.push(...(page.Items ?? []));
  return items;
}

/** Every byte of every item, with binary attributes as their bytes (what a backup holds). */
const bytesOf = (items: readonly Record<string, unknown>[]): Buffer =>
  Buffer.concat(
    items.flatMap((item) =>
      Object.values(item).flatMap((value) =>
        value instanceof Uint8Array
          ? [Buffer.from(value)]
          : [Buffer.from(JSON.stringify(value, replacer) ?? '')],
      ),
    ),
  );
const replacer = (_: string, value: unknown) =>
  value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;

async function routeOn(stack: LocalStack, details: readonly Record<string, unknown>[]) {
  const router = createRouterHandler(
    routerDependencies(loadRouterConfig(handlerEnvironment(stack)), { client: documents }),
    createTelemetry('router'),
  );
  for (const detail of details) await router(aSubmittedEvent(detail), aLocalLambdaContext());
}

const submission = aSubmissionDetail({ userId: 'dana-3', prompt: 'a glass whale in orbit', provider: 'fal' });

beforeAll(async () => {
  silenceHandlerTelemetry();
  stacks = await Promise.all([1, 2].map(() => provisionLocalStack({ stage: uniqueStage('k') })));
  await Promise.all(
    stacks.map((stack) => routeOn(stack, [submission, aSubmissionDetail(), aSubmissionDetail()])),
  );
});

afterAll(() => {
  documents.destroy();
  kms.destroy();
});

describe('given the same jobs routed on two stacks with the production wiring', () => {
  it('then the same submission has a keyed hash on each, and the two differ', async () => {
    const hashes = await Promise.all(
      stacks.map(async (stack) => {
        // Stored items read back as records (src/log/stored-records.ts); rules items are not records.
        const log = (await scanAll(stack.tables.routingLog)).filter((item) =>
          String(item.stream).startsWith('job#'),
        );
        const decision = log.map(recordFromItem).find((record) => record.metadata.jobId === submission.jobId);
        return decision && isDecision(decision) ? decision.metadata.payloadHash : undefined;
      }),
    );
    for (const hash of hashes) expect(hash).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    expect(hashes[0]).not.toBe(hashes[1]);
  });

  it('then the content table holds wrapped keys only, and no table holds a plaintext key', async () => {
    const [stack] = stacks as [LocalStack];
    const content = await scanAll(stack.tables.content);
    const keyItems = content.filter((item) => String(item.id).startsWith('transit#'));
    expect(keyItems).toHaveLength(1); // one container, one hour: one data key
    const [keyItem] = keyItems as [Record<string, unknown>];
    expect(Object.keys(keyItem).sort()).toEqual(['expiresAt', 'id', 'wrapped']);
    const { Plaintext } = await kms.send(
      new DecryptCommand({
        CiphertextBlob: keyItem.wrapped as Uint8Array,
        EncryptionContext: { ...transitKeyContext(stack.stage, String(keyItem.id)) },
      }),
    );
    const plaintext = Buffer.from(Plaintext as Uint8Array);
    expect(plaintext).toHaveLength(32);
    const everything = bytesOf(
      (await Promise.all(Object.values(stack.tables).map((table) => scanAll(table)))).flat(),
    );
    for (const form of [
      plaintext,
      Buffer.from(plaintext.toString('base64')),
      Buffer.from(plaintext.toString('hex')),
    ])
      expect(everything.includes(form)).toBe(false);
    expect(everything.includes(Buffer.from('a glass whale in orbit'))).toBe(false);
  });

  it('then a wrapped key does not unwrap under another key id or stage (the encryption context binds both)', async () => {
    const [stack] = stacks as [LocalStack];
    const keyItem = (await scanAll(stack.tables.content)).find((item) =>
      String(item.id).startsWith('transit#'),
    );
    const wrapped = keyItem?.wrapped as Uint8Array;
    await expect(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: wrapped,
          EncryptionContext: { ...transitKeyContext(stack.stage, 'transit#2020-01-01T00#other') },
        }),
      ),
    ).rejects.toThrow();
    await expect(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: wrapped,
          EncryptionContext: { ...transitKeyContext('other', String(keyItem?.id)) },
        }),
      ),
    ).rejects.toThrow();
  });
});
