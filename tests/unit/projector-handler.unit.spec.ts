import { describe, expect, it, vi } from 'vitest';

vi.hoisted(async () => {
  const { applyPlaceholderHandlerEnvironment } = await import('../support/quiet-handler-env.ts');
  applyPlaceholderHandlerEnvironment();
});

import { ConfigurationError } from '../../src/config/load-config.ts';
import { loadProjectorConfig } from '../../src/config/projector-config.ts';
import { createProjectorHandler, projectorPorts } from '../../src/handlers/projector.ts';
import { handler } from '../../src/lambda/projector.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import { placeholderHandlerEnvironment } from '../support/quiet-handler-env.ts';
import { aNoRouteRecord, aRoutedRecord } from '../support/records.ts';
import { aTableRoutingAutoTo, publish, rulesRecordsOf } from '../support/rules.ts';
import { aStreamEvent, aStreamRecord } from '../support/stream-events.ts';

const invoke = (h: ReturnType<typeof createProjectorHandler>, event: ReturnType<typeof aStreamEvent>) =>
  h(event, aLocalLambdaContext('projector'));

describe('projector handler', () => {
  it('given INSERT records, then it projects them and reports no failure', async () => {
    const { ports, queues, bus } = fakePorts();
    const h = createProjectorHandler(ports, createTelemetry('projector'));
    const response = await invoke(
      h,
      aStreamEvent([aStreamRecord(aRoutedRecord()), aStreamRecord(aNoRouteRecord())]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(queues.sent).toHaveLength(1);
    expect(bus.published).toHaveLength(2);
  });

  it('given a batch, then it logs one summary line at INFO and each record only at DEBUG', async () => {
    const { ports } = fakePorts();
    const telemetry = createTelemetry('projector');
    const info = vi.spyOn(telemetry.logger, 'info');
    const debug = vi.spyOn(telemetry.logger, 'debug');
    const h = createProjectorHandler(ports, telemetry);
    await invoke(h, aStreamEvent([aStreamRecord(aRoutedRecord()), aStreamRecord(aNoRouteRecord())]));
    expect(info.mock.calls.map(([message]) => message)).toEqual(['batch projected']);
    expect(info.mock.calls[0]?.[1]).toEqual({ records: 2, projected: 2, failed: 0 });
    expect(debug.mock.calls.filter(([message]) => message === 'record projected')).toHaveLength(2);
  });

  it('given MODIFY and REMOVE records, then they are ignored', async () => {
    const { ports, bus } = fakePorts();
    const h = createProjectorHandler(ports, createTelemetry('projector'));
    const response = await invoke(
      h,
      aStreamEvent([
        aStreamRecord(aRoutedRecord(), { eventName: 'MODIFY' }),
        aStreamRecord(aRoutedRecord(), { eventName: 'REMOVE' }),
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(bus.calls).toBe(0);
  });

  it('given a rules record among decisions, then it is skipped without failure and the decisions are projected', async () => {
    const { ports, bus, queues } = fakePorts();
    const h = createProjectorHandler(ports, createTelemetry('projector'));
    const [rules] = rulesRecordsOf([publish(aTableRoutingAutoTo('replicate'))]);
    const response = await invoke(
      h,
      aStreamEvent([aStreamRecord(rules as object), aStreamRecord(aRoutedRecord())]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(queues.sent).toHaveLength(1);
    expect(bus.published).toHaveLength(1);
  });

  it('given an unknown record type, then it is reported as a batch item failure and the rest are projected', async () => {
    const { ports, bus } = fakePorts();
    const h = createProjectorHandler(ports, createTelemetry('projector'));
    const unknown = aStreamRecord({ stream: 'job#x', version: 1, type: 'SomethingElse', schemaVersion: 1 });
    const response = await invoke(h, aStreamEvent([unknown, aStreamRecord(aRoutedRecord())]));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: unknown.dynamodb?.SequenceNumber }] });
    expect(bus.published).toHaveLength(1);
  });

  it('given a malformed image among good records, then only that record is reported failed and the others are projected', async () => {
    const { ports, bus, queues } = fakePorts();
    const telemetry = createTelemetry('projector');
    const errors = vi.spyOn(telemetry.logger, 'error');
    const h = createProjectorHandler(ports, telemetry);
    const malformed = aStreamRecord(aRoutedRecord({ prompt: 'secret prompt text' }));
    // An attribute value of no known DynamoDB type: unmarshall throws for this record only.
    (malformed.dynamodb as { NewImage: Record<string, unknown> }).NewImage.job = {
      BOGUS: 'secret prompt text',
    };
    const noImage = aStreamRecord(aRoutedRecord());
    delete (noImage.dynamodb as { NewImage?: unknown }).NewImage;
    const response = await invoke(
      h,
      aStreamEvent([aStreamRecord(aRoutedRecord()), malformed, noImage, aStreamRecord(aNoRouteRecord())]),
    );
    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: malformed.dynamodb?.SequenceNumber },
        { itemIdentifier: noImage.dynamodb?.SequenceNumber },
      ],
    });
    expect(queues.sent).toHaveLength(1);
    expect(bus.published).toHaveLength(2);
    expect(JSON.stringify(errors.mock.calls)).not.toContain('secret prompt text');
  });

  it('given a record whose effects fail, then its sequence number is reported and a marker-less success is not', async () => {
    const { ports, bus, markers } = fakePorts();
    const failing = aRoutedRecord();
    bus.refuse = (entry) =>
      JSON.parse(entry.detail).jobId === failing.metadata.jobId
        ? { code: 'InternalFailure', message: 'x', retryable: false }
        : undefined;
    markers.failWrite = true;
    const h = createProjectorHandler(ports, createTelemetry('projector'));
    const failingRecord = aStreamRecord(failing);
    const response = await invoke(h, aStreamEvent([aStreamRecord(aRoutedRecord()), failingRecord]));
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: failingRecord.dynamodb?.SequenceNumber }],
    });
  });

  it('given the Lambda entry is loaded with a valid environment, then it exports a wired handler', () => {
    expect(typeof handler).toBe('function');
    expect(projectorPorts(loadProjectorConfig(placeholderHandlerEnvironment)).queueUrls).toEqual({
      fal: placeholderHandlerEnvironment.FAL_QUEUE_URL,
      replicate: placeholderHandlerEnvironment.REPLICATE_QUEUE_URL,
    });
  });
});

describe('projector configuration', () => {
  it('given only the required variables, then the bus defaults to default and markers live 7 days', () => {
    const { EVENT_LOG_TABLE: _ignored, EVENT_BUS_NAME: _default, ...env } = placeholderHandlerEnvironment;
    expect(loadProjectorConfig(env)).toMatchObject({
      eventBusName: 'default',
      effectMarkerTtlDays: 7,
    });
  });

  it('given missing and malformed variables, then one error names every problem', () => {
    expect(() => loadProjectorConfig({ STAGE: 'test' })).toThrow(
      expect.objectContaining({
        missing: [
          'EFFECTS_TABLE',
          'JOBS_TABLE',
          'FAL_QUEUE_URL',
          'REPLICATE_QUEUE_URL',
          'CONTENT_TABLE',
          'CONTENT_KMS_KEY_ID',
        ],
      }),
    );
    const malformed = {
      ...placeholderHandlerEnvironment,
      FAL_QUEUE_URL: 'nope',
      EFFECT_MARKER_TTL_DAYS: '1',
    };
    expect(() => loadProjectorConfig(malformed)).toThrow(ConfigurationError);
    expect(() => loadProjectorConfig(malformed)).toThrow(/FAL_QUEUE_URL.*EFFECT_MARKER_TTL_DAYS/);
  });

  it('given PROVIDER_QUEUE_URLS, then its providers join fal and replicate; a malformed mapping is named', () => {
    const veo = 'https://sqs.eu-west-1.amazonaws.com/111122223333/VeoJobQueue';
    expect(
      loadProjectorConfig({ ...placeholderHandlerEnvironment, PROVIDER_QUEUE_URLS: JSON.stringify({ veo }) })
        .queueUrls,
    ).toMatchObject({ veo, fal: placeholderHandlerEnvironment.FAL_QUEUE_URL });
    for (const malformed of ['{not json', '{"Veo":"https://x.example"}', '{"veo":"nope"}']) {
      expect(() =>
        loadProjectorConfig({ ...placeholderHandlerEnvironment, PROVIDER_QUEUE_URLS: malformed }),
      ).toThrow(/PROVIDER_QUEUE_URLS/);
    }
  });
});
