/**
 * Projector Lambda handler: target of the routing log's DynamoDB Streams event source mapping (INSERT only,
 * ReportBatchItemFailures). Adapts stream records into routing-log records and hands them to the
 * projection use case (src/projections/project-records.ts); it reports every record that failed, and
 * Lambda resumes from the lowest of them — the records after it that did succeed come back and are
 * absorbed by their completion markers.
 *
 * Each record's image is decoded here, inside its own error handling (no middleware unmarshalls the
 * batch first): a malformed image fails that record alone, and the rest of the batch is projected.
 *
 * No side effect at import: the Lambda entry (src/lambda/projector.ts) wires it from process.env at
 * init; the local runner, tests and benchmarks pass a config of their own.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient, singleAttemptClientDefaults } from '../aws/clients.ts';
import { DynamoDbContentVault } from '../aws/dynamodb-content-vault.ts';
import { DynamoDbEffectMarkers } from '../aws/dynamodb-effect-markers.ts';
import { DynamoDbJobsTable } from '../aws/dynamodb-jobs-table.ts';
import { EventBridgeAnnouncer } from '../aws/eventbridge-announcer.ts';
import { KmsKeyService } from '../aws/kms-key-service.ts';
import { SqsProviderQueues } from '../aws/sqs-provider-queues.ts';
import type { ProjectorConfig } from '../config/projector-config.ts';
import { ContentKeyRing } from '../content/content-key-ring.ts';
import type { RoutingLogRecord } from '../log/routing-records.ts';
import { isRulesStream } from '../log/rules-stream.ts';
import { recordFromItem, UnsupportedRecordError } from '../log/stored-records.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { type ProtectedProjectorPorts, projectWithContent } from '../projections/content-retention.ts';
import type { RecordOutcome } from '../projections/project-records.ts';

export interface ProjectorHooks {
  /** Told the error class of every record that failed (the local stack names it when it gives up). */
  readonly onRecordFailed?: (sequenceNumber: string, errorClass: string) => void;
}

export function createProjectorHandler(
  ports: ProtectedProjectorPorts,
  { logger, metrics }: Telemetry,
  hooks: ProjectorHooks = {},
) {
  // logEvent false: never the event (its images hold the job), whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
    .use(injectLambdaContext(logger, { logEvent: false }))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      const failed: string[] = [];
      const records: RoutingLogRecord[] = [];
      const sequenceNumbers: string[] = [];
      for (const streamRecord of event.Records) {
        const sequenceNumber = streamRecord.dynamodb?.SequenceNumber ?? '';
        if (streamRecord.eventName !== 'INSERT') {
          // The mapping filters to INSERT; records are never updated or deleted, so this is noise.
          logger.debug('stream record ignored: not an INSERT', {
            eventName: streamRecord.eventName,
            sequenceNumber,
          });
          continue;
        }
        if (isRulesStream(streamRecord.dynamodb?.Keys?.stream?.S)) {
          // Rules records change what the router decides; they have no side effect to project.
          logger.debug('stream record ignored: a rules record', { sequenceNumber });
          continue;
        }
        const record = readRecord(streamRecord);
        if (record instanceof UnreadableRecord) {
          // Reported, never dropped: after the mapping's retries it reaches the on-failure destination.
          // Keys only (stream, version): never the image, which holds user content.
          logger.error('unreadable routing-log record', {
            sequenceNumber,
            error: record.code,
            detail: record.detail,
            keys: keysOf(streamRecord),
          });
          metrics.addMetric('UnsupportedRecords', MetricUnit.Count, 1);
          hooks.onRecordFailed?.(sequenceNumber, record.code);
          failed.push(sequenceNumber);
          continue;
        }
        records.push(record);
        sequenceNumbers.push(sequenceNumber);
      }

      const outcomes = records.length > 0 ? await projectWithContent(records, ports) : [];
      outcomes.forEach((outcome, i) => {
        report(outcome, sequenceNumbers[i] as string, { logger, metrics });
        if (!outcome.ok) {
          failed.push(sequenceNumbers[i] as string);
          hooks.onRecordFailed?.(sequenceNumbers[i] as string, outcome.failure?.code ?? 'Unknown');
        }
      });
      // One line per batch at INFO; per-record lines are DEBUG (log ingestion is billed per byte).
      logger.info('batch projected', {
        records: event.Records.length,
        projected: outcomes.filter((outcome) => outcome.ok).length,
        failed: failed.length,
      });
      return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
    });
}

/** Why a stream record could not be read as a routing-log record (facts only, no content). */
class UnreadableRecord {
  readonly code: string;
  readonly detail: string;
  constructor(code: string, detail: string) {
    this.code = code;
    this.detail = detail;
  }
}

function readRecord(streamRecord: DynamoDBRecord): RoutingLogRecord | UnreadableRecord {
  try {
    const image = streamRecord.dynamodb?.NewImage;
    if (!image) return new UnreadableRecord('MissingImage', 'the stream record carries no NewImage');
    return recordFromItem(unmarshall(image as Record<string, AttributeValue>));
  } catch (error) {
    // UnsupportedRecordError messages name only the type/schemaVersion; a decoding error's message
    // could quote the image, so only its name is kept.
    if (error instanceof UnsupportedRecordError) return new UnreadableRecord(error.name, error.message);
    return new UnreadableRecord(
      error instanceof Error ? error.name : 'Error',
      'the image could not be decoded',
    );
  }
}

/** The record's key attributes, if they are plain: `stream` (S) and `version` (N). */
function keysOf(streamRecord: DynamoDBRecord): { stream: string | null; version: string | null } {
  const keys = streamRecord.dynamodb?.Keys;
  const stream = keys?.stream?.S;
  const version = keys?.version?.N;
  return {
    stream: typeof stream === 'string' ? stream : null,
    version: typeof version === 'string' ? version : null,
  };
}

/** Metric names are PascalCase, CloudWatch's convention (as RecordsFailed, EffectsSkipped). */
const DONE_METRICS = { dispatch: 'DispatchDone', announce: 'AnnounceDone', status: 'StatusDone' } as const;

function report(outcome: RecordOutcome, sequenceNumber: string, { logger, metrics }: Telemetry) {
  // Facts only — never the job itself, which holds the user's prompt.
  const facts = {
    jobId: outcome.jobId,
    stream: outcome.stream,
    version: outcome.version,
    sequenceNumber,
    effects: outcome.effects,
    statusOutcome: outcome.statusOutcome,
  };
  for (const [effect, state] of Object.entries(outcome.effects) as [keyof typeof DONE_METRICS, string][]) {
    if (state === 'done') metrics.addMetric(DONE_METRICS[effect], MetricUnit.Count, 1);
    if (state === 'skipped') metrics.addMetric('EffectsSkipped', MetricUnit.Count, 1);
  }
  if (!outcome.ok) {
    logger.error('projection failed; the record will be redelivered', { ...facts, failure: outcome.failure });
    metrics.addMetric('RecordsFailed', MetricUnit.Count, 1);
  } else if (!outcome.markerWritten) {
    logger.warn('effects done but completion marker not written: a redelivery would repeat them', facts);
    metrics.addMetric('MarkerWriteFailures', MetricUnit.Count, 1);
  } else {
    logger.debug('record projected', facts);
  }
}

/** The projector's AWS adapters for a validated configuration. */
export function projectorPorts(config: ProjectorConfig): ProtectedProjectorPorts {
  const documents = createDocumentClient();
  const now = () => new Date();
  const vault = new DynamoDbContentVault(documents, config.contentTable);
  return {
    markers: new DynamoDbEffectMarkers(documents, config.effectsTable, {
      ttlDays: config.effectMarkerTtlDays,
      now,
    }),
    sender: new SqsProviderQueues(new SQSClient(singleAttemptClientDefaults)),
    queueUrls: config.queueUrls,
    maxMessageBytes: config.queueMaxMessageBytes,
    publisher: new EventBridgeAnnouncer(
      new EventBridgeClient(singleAttemptClientDefaults),
      config.eventBusName,
    ),
    jobs: new DynamoDbJobsTable(documents, config.jobsTable),
    content: {
      keys: new ContentKeyRing(vault, new KmsKeyService({ contentKeyId: config.contentKmsKeyId }), {
        stage: config.stage,
      }),
      store: vault,
      retentionDays: config.contentRetentionDays,
    },
    now,
  };
}
