/**
 * NAIVE REFERENCE — NOT PRODUCTION CODE. The cold-start benchmark (bench/cold-start.ts) compares
 * each real handler's initialisation with this one's, measured in the same run: the minimal handler
 * a team writes first — middy, the DynamoDB document client, one conditional PutItem — with the AWS
 * SDK bundled (esbuild, minified, tree-shaken, ESM), as a plain SAM TypeScript project ships it.
 * It is imported, never invoked: only its initialisation is measured.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = middy(async (event: { id: string; detail: Record<string, unknown> }) => {
  await documents.send(
    new PutCommand({
      TableName: process.env.EVENT_LOG_TABLE,
      Item: { stream: event.id, version: 1, detail: event.detail },
      ConditionExpression: 'attribute_not_exists(stream)',
    }),
  );
  return { accepted: event.id };
});
