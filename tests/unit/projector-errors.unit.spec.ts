import { describe, expect, it } from 'vitest';
import { createProjectorHandler } from '../../src/handlers/projector.ts';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import { storedItemOf } from '../../src/log/stored-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aRoutedRecord } from '../support/records.ts';
import { aStreamEvent, aStreamRecord } from '../support/stream-events.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

const aProjector = () => {
  const fakes = fakePorts();
  return { ...fakes, projector: createProjectorHandler(fakes.ports, createTelemetry('projector')) };
};

describe('projector handler: malformed stream records', () => {
  it('given an unsupported record without a sequence number, when invoked, then it reports an empty item identifier so Lambda retries the whole batch', async () => {
    const { projector, bus } = aProjector();
    const unsupported = aStreamRecord({
      stream: 'job#x',
      version: 1,
      type: 'SomethingElse',
      schemaVersion: 1,
    });
    delete unsupported.dynamodb?.SequenceNumber;

    const response = await projector(
      aStreamEvent([unsupported, aStreamRecord(aRoutedRecord())]),
      aLocalLambdaContext('projector'),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
    expect(bus.published).toHaveLength(1);
  });

  it('given a record of a future schema version, when invoked, then only that record is reported failed', async () => {
    const { projector } = aProjector();
    const future = aStreamRecord({ ...storedItemOf(aRoutedRecord()), schemaVersion: 99 });

    const response = await projector(
      aStreamEvent([aStreamRecord(aRoutedRecord()), future]),
      aLocalLambdaContext('projector'),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: future.dynamodb?.SequenceNumber }] });
  });

  it('given a record too malformed to describe (its type is a map whose toString is a string), when invoked, then only that record fails and the good one is projected', async () => {
    const { projector, queues } = aProjector();
    const good = aStreamRecord(aRoutedRecord());
    const unreadable = aStreamRecord({
      ...storedItemOf(aRoutedRecord()),
      type: { toString: 'RoutingDecided' },
    });

    const response = await projector(aStreamEvent([good, unreadable]), aLocalLambdaContext('projector'));

    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: unreadable.dynamodb?.SequenceNumber }]);
    expect(queues.calls).toBeGreaterThan(0);
  });

  it('given the marker store is unavailable, when invoked, then every record of the batch is reported failed', async () => {
    const { projector, markers, queues } = aProjector();
    markers.failRead = true;
    const records = [aStreamRecord(aRoutedRecord()), aStreamRecord(aRoutedRecord())];

    const response = await projector(aStreamEvent(records), aLocalLambdaContext('projector'));

    expect(response?.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      records.map((r) => r.dynamodb?.SequenceNumber),
    );
    expect(queues.calls).toBe(0);
  });
});
