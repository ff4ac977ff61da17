/**
 * SDK client construction in one place. Endpoints and region come only from the SDK's standard
 * configuration (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same code runs
 * against AWS and against the local emulators. Retries use the SDK's standard mode — except for
 * the non-idempotent sends (SQS SendMessageBatch, EventBridge PutEvents): the SDK would resend a
 * whole call whose response was lost, out of sight of the projector's accounting, so those clients
 * make one attempt and the projector resends per entry itself (src/batching/partial-retry.ts).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const MAX_ATTEMPTS = 4;

/** How records become DynamoDB items (also what the property tests marshal with). */
export const documentMarshallOptions = { removeUndefinedValues: true } as const;

/** The one DynamoDB document client shape; `config` adds e.g. an operator's `--region`. */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: MAX_ATTEMPTS, ...config }), {
    marshallOptions: documentMarshallOptions,
  });
}

export const sdkClientDefaults = { maxAttempts: MAX_ATTEMPTS } as const;

/** For clients whose calls are not idempotent (SendMessageBatch, PutEvents): no SDK-level resend. */
export const singleAttemptClientDefaults = { maxAttempts: 1 } as const;
