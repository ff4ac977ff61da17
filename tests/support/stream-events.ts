/** Builds DynamoDB Streams events shaped like the Lambda event source mapping delivers them. */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { storedItemOf } from '../../src/log/stored-records.ts';

let sequence = 1000n;

const isLogRecord = (value: object): value is RoutingLogRecord =>
  'type' in value && 'data' in value && 'metadata' in value;

/** A stream record whose image is `given`: a routing-log record as the table stores it, or any item as it is. */
export function aStreamRecord(
  given: Record<string, unknown> | object,
  options: { eventName?: 'INSERT' | 'MODIFY' | 'REMOVE'; sequenceNumber?: string } = {},
): DynamoDBRecord {
  const item = isLogRecord(given) ? storedItemOf(given) : given;
  const image = marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
  const { stream, version } = item as { stream?: unknown; version?: unknown };
  sequence += 1n;
  return {
    eventID: `event-${sequence}`,
    eventName: options.eventName ?? 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1_782_087_720,
      Keys: marshall({ stream, version }, { removeUndefinedValues: true }) as never,
      NewImage: image as never,
      SequenceNumber: options.sequenceNumber ?? String(sequence).padStart(21, '0'),
      SizeBytes: 512,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN:
      'arn:aws:dynamodb:us-east-1:123456789012:table/RoutingLog-test/stream/2026-11-25T00:00:00.000',
  };
}

export const aStreamEvent = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
