/**
 * Holds: a job whose every candidate is full is held (RoutingDeferred), waits in its providers'
 * lines and the hold backlog, and is decided again when a slot frees (oldest first) or when its
 * maximum hold runs out — through the real commands over the in-memory ports.
 */
import { describe, expect, it } from 'vitest';
import { holdPlanOf, recheckDelaySec } from '../../src/commands/hold-job.ts';
import { routeJob } from '../../src/commands/route-job.ts';
import { handleHoldMessage } from '../../src/handlers/holds.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import { recordFromItem, storedItemOf } from '../../src/log/stored-records.ts';
import { backlogDelaySec, holdMessageOf } from '../../src/ports/hold-backlog.ts';
import { decide } from '../../src/routing/decide.ts';
import type { RoutingTable } from '../../src/routing/routing-table.ts';
import { routingTableProblems } from '../../src/routing/routing-table.ts';
import { aTableWithConcurrency } from '../support/capacity.ts';
import { aCapacityStack } from '../support/capacity-stack.ts';
import { aJob } from '../support/jobs.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');

const aStack = (table: RoutingTable) => aCapacityStack(table, T0);

describe('holding a job when every candidate is full', () => {
  it('given fal full, when an explicit fal job arrives, then it is held for fal (never Replicate) and reaches fal once a fal slot frees', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    const first = await stack.submit({ provider: 'fal' });
    const held = await stack.submit({ provider: 'fal' });
    expect(held).toMatchObject({
      type: 'RoutingDeferred',
      data: {
        outcome: 'held',
        waitingFor: ['fal'],
        atMaxHold: 'reject',
        holdUntil: new Date(stack.clock.now + 900_000).toISOString(),
      },
      metadata: { version: 1 },
    });
    expect(held.data.explanation?.candidates.map((c) => c.provider)).not.toContain('replicate');
    expect(stack.backlog.sent).toEqual([
      { message: { kind: 'recheck', jobId: held.metadata.jobId }, delaySec: 30 },
    ]);
    expect(await stack.stateOf(held.metadata.jobId as string)).toMatchObject({ held: true, decision: null });

    // The bounded re-check finds fal still full: the job stays held, and is checked again later.
    expect(await stack.handleBacklog()).toEqual([]);
    expect(stack.backlog.sent.map((s) => s.message)).toEqual([
      { kind: 'recheck', jobId: held.metadata.jobId },
    ]);
    stack.backlog.take();

    expect(await stack.complete(first.metadata.jobId as string)).toBe('released');
    expect(stack.backlog.sent.map((s) => s.message)).toEqual([{ kind: 'slot_freed', provider: 'fal' }]);
    stack.clock.now += 4000;
    const [decided] = await stack.handleBacklog();
    expect(decided).toMatchObject({
      type: 'RoutingDecided',
      data: {
        provider: 'fal',
        queue: 'FalJobQueue',
        afterHold: { deferredVersion: 1, ended: 'decided_again', heldMs: 4000 },
      },
      metadata: { version: 2 },
    });
    const state = await stack.stateOf(held.metadata.jobId as string);
    expect(state).toMatchObject({ held: false, decision: { metadata: { version: 2 } } });
    expect(state.dispatches.map((d) => d.version)).toEqual([2]);
    expect(await stack.inFlight('fal')).toBe(1);
    expect(await stack.ledger.waiting({ provider: 'fal', shard: 0 })).toEqual([]);
  });

  it('given jobs held for fal, when slots free one by one, then they are dispatched oldest first and a newly arriving job waits behind them', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    const running = await stack.submit({ provider: 'fal' });
    const older = await stack.submit({ provider: 'fal' });
    const younger = await stack.submit({ provider: 'fal' });
    stack.backlog.take();
    await stack.complete(running.metadata.jobId as string);
    // A slot is free, but jobs wait: a new arrival (auto or explicit) does not take it.
    const newcomer = await stack.submit({ provider: 'fal' });
    expect(newcomer).toMatchObject({ type: 'RoutingDeferred' });
    const auto = await stack.submit({ provider: 'auto' });
    expect(auto).toMatchObject({ type: 'RoutingDecided', data: { provider: 'replicate' } });

    const order: string[] = [];
    for (let round = 0; round < 3; round++) {
      const decided = await stack.handleBacklog();
      order.push(...decided.map((record) => record.metadata.jobId as string));
      const last = decided.at(-1);
      if (last) await stack.complete(last.metadata.jobId as string);
    }
    expect(order).toEqual([older.metadata.jobId, younger.metadata.jobId, newcomer.metadata.jobId]);
    expect(await stack.inFlight('fal')).toBe(0);
  });

  it('given fal and Replicate full, when an auto job arrives, then it waits in both lines and takes the first slot that frees', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1, replicate: 1 }));
    await stack.submit();
    const onReplicate = await stack.submit();
    const held = await stack.submit();
    expect(held).toMatchObject({ type: 'RoutingDeferred', data: { waitingFor: ['fal', 'replicate'] } });
    stack.backlog.take();
    await stack.complete(onReplicate.metadata.jobId as string);
    const [decided] = await stack.handleBacklog();
    expect(decided).toMatchObject({
      type: 'RoutingDecided',
      data: { provider: 'replicate' },
      metadata: { jobId: held.metadata.jobId },
    });
    expect(await stack.ledger.waiting({ provider: 'fal', shard: 0 })).toEqual([]);
  });

  it('given a held job and its provider still full, when its recheck comes, then no slot take or line write is tried (reads only) and it is checked again later', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    await stack.submit({ provider: 'fal' });
    const held = await stack.submit({ provider: 'fal' });
    stack.backlog.take();
    const writes: string[] = [];
    for (const method of ['take', 'wait', 'leave', 'release'] as const) {
      const original = stack.ledger[method].bind(stack.ledger) as (...args: unknown[]) => Promise<unknown>;
      (stack.ledger as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        writes.push(method);
        return original(...args);
      };
    }
    stack.clock.now += 30_000;
    const { result } = await handleHoldMessage(
      { kind: 'recheck', jobId: held.metadata.jobId as string },
      stack.holds,
    );
    expect(result).toMatchObject({ outcome: 'still_held' });
    expect(writes).toEqual([]);
    expect(stack.backlog.sent.map((s) => s.message)).toEqual([
      { kind: 'recheck', jobId: held.metadata.jobId },
    ]);
  });

  it('given a held job whose line entry went missing, when its recheck comes, then it is put back in the line', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    await stack.submit({ provider: 'fal' });
    const held = await stack.submit({ provider: 'fal' });
    await stack.ledger.leave({ provider: 'fal', shard: 0 }, held.metadata.jobId as string);
    await handleHoldMessage({ kind: 'recheck', jobId: held.metadata.jobId as string }, stack.holds);
    expect((await stack.ledger.waiting({ provider: 'fal', shard: 0 })).map((e) => e.jobId)).toEqual([
      held.metadata.jobId,
    ]);
  });

  it('given a held job whose provider slot expired without a completion, when its recheck comes, then it takes the freed slot', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: { concurrency: 1, jobTimeoutSec: 60 } }));
    await stack.submit({ provider: 'fal' });
    const held = await stack.submit({ provider: 'fal' });
    stack.clock.now += 61_000;
    const { result } = await handleHoldMessage(
      { kind: 'recheck', jobId: held.metadata.jobId as string },
      stack.holds,
    );
    expect(result).toMatchObject({
      outcome: 'decided',
      record: { type: 'RoutingDecided', data: { provider: 'fal' } },
    });
  });

  it('given a held job, when its maximum hold passes with fal still full, then the rule rejects it capacity_exhausted and it leaves the line', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }, { 'explicit-fal': { maxHoldSec: 60 } }));
    await stack.submit({ provider: 'fal' });
    const held = await stack.submit({ provider: 'fal' });
    expect(stack.backlog.sent.at(-1)?.delaySec).toBe(30);
    stack.backlog.take();
    stack.clock.now += 61_000;
    await stack.handleBacklog(); // nothing sent: nothing to handle
    const { result } = await handleHoldMessage(
      { kind: 'recheck', jobId: held.metadata.jobId as string },
      stack.holds,
    );
    expect(result).toMatchObject({
      outcome: 'decided',
      record: {
        type: 'RoutingRejected',
        data: { reason: 'capacity_exhausted', afterHold: { ended: 'max_hold', heldMs: 61_000 } },
        metadata: { version: 2 },
      },
    });
    expect(await stack.stateOf(held.metadata.jobId as string)).toMatchObject({
      held: false,
      done: { reason: 'rejected' },
    });
    expect(await stack.ledger.waiting({ provider: 'fal', shard: 0 })).toEqual([]);
    expect(await stack.inFlight('fal')).toBe(1);
  });

  it('given atMaxHold route_anyway, when the hold runs out, then the job is sent to its provider anyway, recorded as an overflow with its slot counted', async () => {
    const stack = aStack(
      aTableWithConcurrency({ fal: 1 }, { 'explicit-fal': { maxHoldSec: 10, atMaxHold: 'route_anyway' } }),
    );
    await stack.submit({ provider: 'fal' });
    const held = await stack.submit({ provider: 'fal' });
    stack.clock.now += 10_000;
    const { result } = await handleHoldMessage(
      { kind: 'recheck', jobId: held.metadata.jobId as string },
      stack.holds,
    );
    expect(result).toMatchObject({
      outcome: 'decided',
      record: { type: 'RoutingDecided', data: { provider: 'fal', afterHold: { ended: 'max_hold' } } },
    });
    expect(await stack.inFlight('fal')).toBe(2);
  });

  it('given a held job, when its submission is delivered again, then it is a duplicate, still waits once, and its re-check is sent again', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    await stack.submit({ provider: 'fal' });
    const event = aSubmittedEvent(aSubmissionDetail({ provider: 'fal' }));
    const route = () => routeJob({ type: 'RouteJob', data: { event } }, stack.router);
    expect((await route()).outcome).toBe('recorded');
    expect(await route()).toMatchObject({ outcome: 'duplicate', record: { type: 'RoutingDeferred' } });
    expect(await stack.ledger.waiting({ provider: 'fal', shard: 0 })).toHaveLength(1);
    expect(stack.backlog.sent.filter((s) => s.message.kind === 'recheck')).toHaveLength(2);
  });

  it('given a rule with whenAllFull reject, when every candidate is full, then the job is rejected at once (no hold)', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }, { 'explicit-fal': { whenAllFull: 'reject' } }));
    await stack.submit({ provider: 'fal' });
    expect(await stack.submit({ provider: 'fal' })).toMatchObject({ data: { reason: 'capacity_exhausted' } });
    expect(stack.backlog.sent).toEqual([]);
  });

  it('given a line entry whose job was never recorded, when the line is drained after the grace, then the entry is taken out and the line moves on', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    await stack.ledger.wait({ provider: 'fal', shard: 0 }, { jobId: 'ghost', sinceMs: T0 });
    // Within the grace it may be a router between joining and recording: left alone.
    await handleHoldMessage({ kind: 'slot_freed', provider: 'fal' }, stack.holds);
    expect(await stack.ledger.waiting({ provider: 'fal', shard: 0 })).toHaveLength(1);
    stack.clock.now += 61_000;
    const decided = await handleHoldMessage({ kind: 'slot_freed', provider: 'fal' }, stack.holds);
    expect(decided.decided).toEqual([]);
    expect(await stack.ledger.waiting({ provider: 'fal', shard: 0 })).toEqual([]);
    expect(await stack.submit({ provider: 'fal' })).toMatchObject({ type: 'RoutingDecided' });
  });
  it("given every candidate full, when the job's message could never fit the provider queue, then it is rejected message_too_large at once and not held", async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    await stack.submit({ provider: 'fal' });
    const result = await routeJob(
      {
        type: 'RouteJob',
        data: { event: aSubmittedEvent(aSubmissionDetail({ provider: 'fal', extra: 'x'.repeat(4000) })) },
      },
      { ...stack.router, maxMessageBytes: 1024 },
    );
    expect(result.record).toMatchObject({ type: 'RoutingRejected', data: { reason: 'message_too_large' } });
    expect(await stack.ledger.waiting({ provider: 'fal', shard: 0 })).toEqual([]);
    expect(stack.backlog.sent.filter((s) => s.message.kind === 'recheck')).toEqual([]);
  });
});

describe('the deferral record', () => {
  it('given a deferral and the decision after it, when stored and read back, then both round-trip and the fold says held, then decided', async () => {
    const stack = aStack(aTableWithConcurrency({ fal: 1 }));
    const first = await stack.submit({ provider: 'fal' });
    const held = await stack.submit({ provider: 'fal' });
    await stack.complete(first.metadata.jobId as string);
    await stack.handleBacklog();
    const records = await stack.log.readStream(`job#${held.metadata.jobId}`);
    expect(records.map((r) => r.type)).toEqual(['RoutingDeferred', 'RoutingDecided']);
    for (const record of records) expect(recordFromItem(storedItemOf(record))).toEqual(record);
    expect(jobStateOf(records.slice(0, 1))).toMatchObject({
      held: true,
      deferral: { metadata: { version: 1 } },
    });
    expect(jobStateOf(records)).toMatchObject({
      held: false,
      decision: { metadata: { version: 2 } },
      current: { version: 2 },
    });
  });
});

describe('hold rules and messages', () => {
  it('given a table, when maxHoldSec or atMaxHold are out of range, then the table is refused naming them', () => {
    const withRule = (fields: Record<string, unknown>) =>
      routingTableProblems({
        ...aTableWithConcurrency({ fal: 1 }),
        rules: aTableWithConcurrency({ fal: 1 }).rules.map((rule) =>
          rule.id === 'explicit-fal' ? { ...rule, ...fields } : rule,
        ),
      }).join();
    expect(withRule({ maxHoldSec: 0 })).toMatch(/maxHoldSec/);
    expect(withRule({ maxHoldSec: 86_401 })).toMatch(/maxHoldSec/);
    expect(withRule({ atMaxHold: 'wait' })).toMatch(/atMaxHold/);
    expect(withRule({ whenAllFull: 'hold', maxHoldSec: 60, atMaxHold: 'route_anyway' })).toBe('');
  });

  it('given a capacity_exhausted decision, when its rule holds, then the plan lists the full candidates in order and the hold end', () => {
    const table = aTableWithConcurrency({ fal: 1, replicate: 1 });
    const decision = decide(aJob({ provider: 'auto' }), { table, capacity: { full: ['fal', 'replicate'] } });
    expect(holdPlanOf(decision, table, new Date(T0))).toEqual({
      waitingFor: ['fal', 'replicate'],
      holdUntil: new Date(T0 + 900_000).toISOString(),
      atMaxHold: 'reject',
    });
    expect(holdPlanOf(decide(aJob({ provider: 'fal' }), { table }), table, new Date(T0))).toBeUndefined();
  });

  it('given backlog bodies, when read, then only well-formed recheck and slot_freed messages are accepted', () => {
    expect(holdMessageOf('{"kind":"recheck","jobId":"job-1"}')).toEqual({ kind: 'recheck', jobId: 'job-1' });
    expect(holdMessageOf('{"kind":"slot_freed","provider":"fal"}')).toEqual({
      kind: 'slot_freed',
      provider: 'fal',
    });
    for (const body of [
      '',
      'null',
      '{"kind":"recheck"}',
      '{"kind":"recheck","jobId":"a b"}',
      '{"kind":"other"}',
    ])
      expect(holdMessageOf(body)).toBeNull();
  });

  it('given waits, when turned into SQS delays, then they are whole seconds within 0–900 and never past the hold end', () => {
    expect(backlogDelaySec(Number.NaN)).toBe(0);
    expect(backlogDelaySec(-5)).toBe(0);
    expect(backlogDelaySec(1.2)).toBe(2);
    expect(backlogDelaySec(5000)).toBe(900);
    expect(recheckDelaySec(new Date(T0 + 10_000).toISOString(), new Date(T0), 30)).toBe(10);
    expect(recheckDelaySec(new Date(T0 - 10_000).toISOString(), new Date(T0), 30)).toBe(0);
  });
});
