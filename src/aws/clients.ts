/**
 * SDK client construction in one place. Endpoints and region come only from the SDK's standard
 * configuration (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same code runs
 * against AWS and against the local emulators. Retries use the SDK's standard mode.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const MAX_ATTEMPTS = 4;

/** The one DynamoDB document client shape; `config` adds e.g. an operator's `--region`. */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: MAX_ATTEMPTS, ...config }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export const sdkClientDefaults = { maxAttempts: MAX_ATTEMPTS } as const;
