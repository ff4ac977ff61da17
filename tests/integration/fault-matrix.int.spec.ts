/**
 * Fault-injection matrix: every side-effect call of the projector fails once, either BEFORE it
 * (the call throws, nothing happened) or AFTER it (the call happened on the emulator, then the
 * process "died" before recording it). The batch is then redelivered to a fresh projector from the
 * checkpoint Lambda would keep, and the whole stream is replayed once more. Per job we expect
 * exactly one dispatch and one announcement — or, only in the documented window (effect done,
 * marker not written), a duplicate carrying the same dispatch id / announcementId — the right Jobs
 * status, and nothing lost.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import { createProjectorHandler } from '../../src/handlers/projector.ts';
import { type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';
import { DynamoDbStreamPoller } from '../../src/local/stream-poller.ts';
import type { DecisionRecord } from '../../src/log/routing-records.ts';
import { createTelemetry } from '../../src/observability/telemetry.ts';
import { announcementIdOf, dispatchIdOf } from '../../src/projections/effects.ts';
import {
  type FaultTiming,
  instrumentedPorts,
  readJob,
  receiveAll,
  receiveAnnouncements,
  uniqueStage,
} from '../support/local-aws.ts';
import { appendRecord } from '../support/log-appends.ts';
import { quietHandlerTelemetry } from '../support/quiet-handler-env.ts';
import { aNoRouteRecord, anInvalidRequestRecord, aRoutedRecord } from '../support/records.ts';

// Quiet Powertools for the handlers these tests create (the factories read no other environment).
quietHandlerTelemetry();

const COMMANDS = [
  'BatchGetItem',
  'SendMessageBatch',
  'PutEvents',
  'BatchExecuteStatement',
  'BatchWriteItem',
] as const;
type Command = (typeof COMMANDS)[number];
const TIMINGS: readonly FaultTiming[] = ['before', 'after'];

/**
 * The documented duplicate windows: an effect that happened without its completion being recorded.
 * A job's completion is its Jobs write (routingDone), so a lost marker write repeats only what has
 * no job — the invalid event's announcement.
 */
const dispatchRepeats = (command: Command, timing: FaultTiming) =>
  command === 'SendMessageBatch' && timing === 'after';
const announcementRepeats = (command: Command, timing: FaultTiming, record: keyof Cell['records']) =>
  (command === 'PutEvents' && timing === 'after') ||
  (command === 'BatchWriteItem' && timing === 'before' && record === 'invalid');

interface Cell {
  readonly command: Command;
  readonly timing: FaultTiming;
  readonly faultsInjected: number;
  readonly failedOnFirstDelivery: number;
  readonly falDispatchIds: string[];
  readonly replicateDispatchIds: string[];
  readonly announcementCounts: Map<string, number>;
  readonly statuses: Record<string, unknown>;
  readonly records: {
    routedFal: DecisionRecord;
    routedReplicate: DecisionRecord;
    noRoute: DecisionRecord;
    invalid: DecisionRecord;
  };
}

async function runCell(command: Command, timing: FaultTiming): Promise<Cell> {
  const stack: LocalStack = await provisionLocalStack({ stage: uniqueStage('m') });
  const records = {
    routedFal: aRoutedRecord({ provider: 'fal' }),
    routedReplicate: aRoutedRecord({ provider: 'replicate' }),
    noRoute: aNoRouteRecord(),
    invalid: anInvalidRequestRecord({ withJobId: false }),
  };
  const client = createDocumentClient();
  const log = new DynamoDbRoutingLog(client, stack.tables.routingLog);
  for (const record of Object.values(records)) await appendRecord(log, record);
  client.destroy();

  const poller = new DynamoDbStreamPoller({ streamArn: stack.routingLogStreamArn });
  const faulty = instrumentedPorts(stack, { fault: { command, timing } });
  const first = await poller.deliverNext(createProjectorHandler(faulty.ports, createTelemetry('projector')));
  faulty.destroy();

  // Redelivery from Lambda's checkpoint, then a full replay, each with a fresh projector.
  for (const pass of ['redelivery', 'replay']) {
    if (pass === 'replay') poller.rewind();
    const fresh = instrumentedPorts(stack);
    await poller.drain(createProjectorHandler(fresh.ports, createTelemetry('projector')), {
      timeoutMs: 20_000,
    });
    fresh.destroy();
  }
  poller.destroy();

  const ids = new Set(
    Object.values(records).map((r) => announcementIdOf(r.metadata.stream, r.metadata.version)),
  );
  const announcements = await receiveAnnouncements(stack, { expected: ids.size, ids });
  const announcementCounts = new Map<string, number>();
  for (const a of announcements) {
    const id = String(a.detail.announcementId);
    announcementCounts.set(id, (announcementCounts.get(id) ?? 0) + 1);
  }
  const dispatchIds = async (queueUrl: string) =>
    (await receiveAll(queueUrl, { expected: 1 })).map((m) => m.attributes.dispatchId as string);
  const statuses: Record<string, unknown> = {};
  for (const [name, record] of Object.entries(records)) {
    statuses[name] = record.metadata.jobId
      ? ((await readJob(stack, record.metadata.jobId))?.status ?? 'absent')
      : 'n/a';
  }
  return {
    command,
    timing,
    faultsInjected: faulty.log.calls.filter((c) => c === command).length,
    failedOnFirstDelivery: first?.failed ?? -1,
    falDispatchIds: await dispatchIds(stack.queues.fal),
    replicateDispatchIds: await dispatchIds(stack.queues.replicate),
    announcementCounts,
    statuses,
    records,
  };
}

const cells: Cell[] = [];

describe('given a projector whose every side-effect call fails once, before or after it happens', () => {
  beforeAll(async () => {
    const cases = COMMANDS.flatMap((command) => TIMINGS.map((timing) => [command, timing] as const));
    cells.push(...(await Promise.all(cases.map(([command, timing]) => runCell(command, timing)))));
  }, 180_000);

  afterAll(() => {
    const rows = cells.map((c) => ({
      fault: `${c.command} ${c.timing}`,
      'calls faulted': c.faultsInjected,
      'redelivered after 1st': `${c.failedOnFirstDelivery}/4`,
      'fal msgs': c.falDispatchIds.length,
      'replicate msgs': c.replicateDispatchIds.length,
      announcements: [...c.announcementCounts.values()].join('+'),
      'Jobs fal/rep/no_route': `${c.statuses.routedFal}/${c.statuses.routedReplicate}/${c.statuses.noRoute}`,
      'duplicate window':
        dispatchRepeats(c.command, c.timing) || announcementRepeats(c.command, c.timing, 'invalid')
          ? 'yes'
          : 'no',
    }));
    console.log(
      '\nFault-injection matrix (4 records: routed fal, routed replicate, no_route, invalid without jobId)',
    );
    console.table(rows);
  });

  it.each(COMMANDS.flatMap((command) => TIMINGS.map((timing) => ({ command, timing }))))(
    'when $command fails $timing the call, then after redelivery every job has its effects once (or a same-id duplicate in the window)',
    ({ command, timing }) => {
      const cell = cells.find((c) => c.command === command && c.timing === timing) as Cell;
      const { routedFal, routedReplicate } = cell.records;
      expect(cell.faultsInjected).toBeGreaterThan(0);
      expect(cell.failedOnFirstDelivery).toBeGreaterThan(command === 'BatchWriteItem' ? -1 : 0);

      const dispatches = dispatchRepeats(command, timing) ? 2 : 1;
      expect(cell.falDispatchIds).toEqual(
        Array(dispatches).fill(dispatchIdOf(routedFal.metadata.jobId as string, 1)),
      );
      expect(cell.replicateDispatchIds).toEqual(
        Array(dispatches).fill(dispatchIdOf(routedReplicate.metadata.jobId as string, 1)),
      );

      expect(cell.announcementCounts.size).toBe(4);
      for (const [name, record] of Object.entries(cell.records) as [
        keyof Cell['records'],
        DecisionRecord,
      ][]) {
        const announced = announcementRepeats(command, timing, name) ? 2 : 1;
        expect(
          cell.announcementCounts.get(announcementIdOf(record.metadata.stream, record.metadata.version)),
          name,
        ).toBe(announced);
      }

      expect(cell.statuses).toEqual({
        routedFal: 'ROUTED',
        routedReplicate: 'ROUTED',
        noRoute: 'REJECTED',
        invalid: 'n/a',
      });
    },
  );
});
