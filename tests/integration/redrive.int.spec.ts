/**
 * `routing-manager redrive` against the emulators: a stream batch whose announcements kept failing
 * is abandoned to the on-failure destination (after dispatching); the re-drive finds exactly the
 * incomplete records of the window, the projector completes them with their ORIGINAL ids, and
 * nothing is lost or sent twice. Running it again appends nothing.
 */

import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { type CliIo, runCli } from '../../src/cli/main.ts';
import { createProjectorHandler } from '../../src/handlers/projector.ts';
import { provisionLocalStack } from '../../src/local/provision.ts';
import { type AbandonedBatch, DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { announcementIdOf } from '../../src/projections/effects.ts';
import {
  instrumentedPorts,
  readJob,
  receiveAll,
  receiveAnnouncements,
  uniqueStage,
} from '../support/local-aws.ts';
import { appendRecord } from '../support/log-appends.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aNoRouteRecord, aReplayOf, aRoutedRecord } from '../support/records.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

async function cli(stage: string, ...argv: string[]) {
  let stdout = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
    env: process.env,
    now: () => new Date('2026-11-25T12:00:00.000Z'),
  };
  const code = await runCli(['--stage', stage, ...argv], io);
  return { code, summary: JSON.parse(stdout) };
}

describe('given a batch abandoned to the on-failure destination after its dispatches went out', () => {
  it('when re-driven, then every job is dispatched once, announced once and ROUTED/REJECTED — 0 lost, 0 duplicated', async () => {
    const stack = await provisionLocalStack({ stage: uniqueStage('rd') });
    const client = createDocumentClient();
    const log = new DynamoDbRoutingLog(client, stack.tables.routingLog);
    const append = async (records: readonly RoutingLogRecord[]) => {
      for (const record of records) await appendRecord(log, record);
    };
    const healthy = () =>
      createProjectorHandler(instrumentedPorts(stack).ports, createTelemetry('projector'));

    // Phase 1: jobs projected normally (complete before the incident).
    const fine = [aRoutedRecord({ provider: 'fal' }), aNoRouteRecord()];
    await append(fine);
    const abandoned: AbandonedBatch[] = [];
    const poller = new DynamoDbStreamPoller({
      streamArn: stack.routingLogStreamArn,
      maxRetryAttempts: 1,
      onFailure: (batch) => {
        abandoned.push(batch);
      },
    });
    await poller.drain(healthy(), { minRecords: fine.length });

    // Phase 2: EventBridge refuses every call: dispatches happen, announcements never; abandoned.
    const lost = [
      aRoutedRecord({ provider: 'fal' }),
      aRoutedRecord({ provider: 'replicate' }),
      aRoutedRecord({ provider: 'fal', referenceImage: 'x'.repeat(150_000) }),
      aNoRouteRecord(),
    ];
    await append(lost);
    const broken = instrumentedPorts(stack, { fault: { command: 'PutEvents', timing: 'before' } });
    await poller.drain(createProjectorHandler(broken.ports, createTelemetry('projector')), {
      minRecords: lost.length,
    });
    expect(abandoned).toHaveLength(1);

    // A replay of a phase-1 job whose own projection is abandoned too (its ids are v2's).
    const replay = aReplayOf(fine[0] as never);
    await append([replay]);
    await poller.drain(createProjectorHandler(broken.ports, createTelemetry('projector')), { minRecords: 1 });
    expect(abandoned).toHaveLength(2);

    const window = ['--since', '2026-11-25T10:00:00Z', '--until', '2026-11-25T10:00:02Z'];
    const args = ['redrive', '--incident', 'INC-7', ...window, '--json'];
    const dry = await cli(stack.stage, ...args, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.summary).toMatchObject({ matched: 6, wouldAppend: 5, appended: 0, complete: 2 });

    const real = await cli(stack.stage, ...args, '--why', 'fal outage: batch abandoned');
    expect(real.code).toBe(0);
    expect(real.summary).toMatchObject({ matched: 6, appended: 5, complete: 2 });
    // The dry run reported exactly what the real run appended, with the same ids.
    const ids = (summary: { targets: Record<string, unknown>[] }) =>
      summary.targets.map((t) => [
        t.jobId,
        t.targetVersion,
        t.redriveVersion,
        t.dispatchId,
        t.announcementId,
      ]);
    expect(ids(dry.summary)).toEqual(ids(real.summary));
    expect(real.summary.targets.find((t: { targetVersion: number }) => t.targetVersion === 2)).toMatchObject({
      dispatchId: `${fine[0]?.metadata.jobId}:v2`,
      missing: ['announce', 'status'],
    });

    await poller.drain(healthy(), { minRecords: 5 });
    poller.destroy();
    broken.destroy();

    const again = await cli(stack.stage, ...args, '--why', 'again');
    expect(again.summary).toMatchObject({ appended: 0, complete: 7, targets: [] });

    // Every dispatch exactly once, under its original id.
    const routed = [...fine, ...lost].filter((r) => r.type === 'RoutingDecided');
    const fal = await receiveAll(stack.queues.fal, { expected: 4 });
    const replicate = await receiveAll(stack.queues.replicate, { expected: 1 });
    expect([...fal, ...replicate].map((m) => m.attributes.dispatchId).sort()).toEqual(
      [...routed.map((r) => `${r.metadata.jobId}:v1`), `${fine[0]?.metadata.jobId}:v2`].sort(),
    );
    // Every announcement exactly once, under its original id.
    const expected = new Set([
      ...[...fine, ...lost].map((r) => announcementIdOf(r.metadata.stream, 1)),
      announcementIdOf(replay.metadata.stream, 2),
    ]);
    const announced = await receiveAnnouncements(stack, { expected: expected.size, ids: expected });
    expect(announced.map((a) => String(a.detail.announcementId)).sort()).toEqual([...expected].sort());
    for (const record of [...fine, ...lost]) {
      const job = await readJob(stack, record.metadata.jobId as string);
      expect(job?.status).toBe(record.type === 'RoutingDecided' ? 'ROUTED' : 'REJECTED');
    }
    client.destroy();
  }, 90_000);
});
