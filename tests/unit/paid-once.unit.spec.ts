/**
 * The promise an integrator bets money on: a provider never gets a job again once the job is done
 * (completed at any provider, failed terminally, rejected) unless an operator named it with
 * `--pay-again-for`, and never gets a superseded (stale) dispatch. Checked as a property over
 * generated histories of one job — decide, re-route (provider-side failure), job-side failure,
 * complete, replay, re-drive, erase, in any order and any number — run through the real commands
 * on the in-memory log, then judged record by record against the fold of what came before it.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planErasureStep } from '../../src/commands/forget-plan.ts';
import { recordDispatchOutcome } from '../../src/commands/record-dispatch-outcome.ts';
import { redriveJob } from '../../src/commands/redrive-projections.ts';
import type { ReplayPolicy } from '../../src/commands/replay-plan.ts';
import { replayJob } from '../../src/commands/replay-projections.ts';
import { reviseRouting } from '../../src/commands/revise-routing.ts';
import { type JobState, jobStateOf } from '../../src/log/job-state.ts';
import type { DecisionRecord, RoutingLogRecord } from '../../src/log/routing-records.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { planEffects } from '../../src/projections/effects.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { appendRecord } from '../support/log-appends.ts';
import { aDecisionRecord } from '../support/routing-log-contract.ts';

const PROVIDERS = ['fal', 'replicate'] as const;
const JOB = { lengthSec: 8, resolution: '720p' };

type Op =
  | {
      kind: 'providerFailure' | 'jobFailure' | 'complete';
      dispatch: number;
      provider: (typeof PROVIDERS)[number];
    }
  | {
      kind: 'replay';
      incident: string;
      providers: string[];
      outcome: 'routed' | 'rejected';
      payAgain: boolean;
    }
  | { kind: 'redrive'; incident: string; payAgain: boolean }
  | { kind: 'erase' };

const incident = fc.constantFrom('INC-1', 'INC-2', 'INC-3');
const op = (allowPayAgain: boolean): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({
      kind: fc.constantFrom('providerFailure', 'jobFailure', 'complete'),
      // 0: the current dispatch; 1..4: that version's dispatch id (old, current or not yet there).
      dispatch: fc.integer({ min: 0, max: 4 }),
      provider: fc.constantFrom(...PROVIDERS),
    }) as fc.Arbitrary<Op>,
    fc.record({
      kind: fc.constant('replay' as const),
      incident,
      providers: fc.subarray([...PROVIDERS], { minLength: 1 }),
      outcome: fc.constantFrom('routed' as const, 'rejected' as const),
      payAgain: allowPayAgain ? fc.boolean() : fc.constant(false),
    }),
    fc.record({
      kind: fc.constant('redrive' as const),
      incident,
      payAgain: allowPayAgain ? fc.boolean() : fc.constant(false),
    }),
    fc.constant({ kind: 'erase' as const }),
  );

const firstDecision = fc.constantFrom(
  () => aDecisionRecord(JOB), // auto → fal: may be re-routed to replicate
  () => aDecisionRecord({ ...JOB, provider: 'fal' }), // explicit: never switched
  () => aDecisionRecord({ ...JOB, resolution: '4k' }), // auto no_route: rejected from the start
);

let clock = 0;
const at = () => new Date(Date.parse('2026-11-25T14:00:00.000Z') + ++clock * 1000).toISOString();

async function run(decision: DecisionRecord, ops: readonly Op[]) {
  const log = new InMemoryRoutingLog();
  await appendRecord(log, decision);
  const jobId = decision.metadata.jobId as string;
  const rules = fixedRules(defaultRoutingTable);
  // Erased content makes replays and re-drives send nothing (the existing, tested mechanism).
  const contentOf = async (job: JobState) => (job.erasure ? ('erased' as const) : ('retained' as const));
  // No completion marks at all: a re-drive sees every record as owing every effect (the worst case).
  const markers = { read: async () => new Map() };
  for (const step of ops) {
    const stream = await log.readStream(decision.metadata.stream);
    const author = { incident: 'x', requestedBy: 'ops', why: 'property', at: at() };
    if (step.kind === 'providerFailure' || step.kind === 'jobFailure' || step.kind === 'complete') {
      const current = jobStateOf(stream).current?.version ?? 1;
      const version = step.dispatch === 0 ? current : step.dispatch;
      const report = {
        jobId,
        dispatchId: `${jobId}:v${version}`,
        provider: step.provider,
        model: null,
        outcome: step.kind === 'complete' ? 'succeeded' : 'failed_terminal',
        errorClass:
          step.kind === 'providerFailure'
            ? 'server_error'
            : step.kind === 'jobFailure'
              ? 'content_policy'
              : null,
        at: author.at,
      };
      if (step.kind === 'providerFailure')
        await reviseRouting({ ...report, signalId: `s-${clock}` }, { log, rules });
      else await recordDispatchOutcome({ ...report, attemptKey: `a-${clock}` }, { log });
    } else if (step.kind === 'replay') {
      const policy: ReplayPolicy = {
        selection: { providers: step.providers, outcome: step.outcome },
        payAgainFor: new Set(step.payAgain ? [jobId] : []),
      };
      await replayJob({ log, contentOf }, decision, { ...author, incident: step.incident }, false, policy);
    } else if (step.kind === 'redrive') {
      await redriveJob(
        { log, markers, contentOf },
        decision,
        { ...author, incident: step.incident },
        {
          dryRun: false,
          oldestJudgeable: '2000-01-01T00:00:00.000Z',
          payAgain: step.payAgain,
        },
      );
    } else {
      const erasure = planErasureStep(jobStateOf(stream), {
        erasureId: 'e',
        requestedBy: 'ops',
        why: 'gdpr',
        at: author.at,
      });
      if (erasure.action === 'append') await appendRecord(log, erasure.record);
    }
  }
  return log.readStream(decision.metadata.stream);
}

/** Whether appending this record makes the projector send the job to a provider. */
function sendsToProvider(record: RoutingLogRecord): boolean {
  if (
    record.type === 'ProviderHealthChanged' ||
    record.type === 'ContentErased' ||
    record.type === 'DispatchOutcomeRecorded' ||
    record.type === 'RoutingDeferred'
  )
    return false;
  if (record.metadata.version === 1) return false; // the decision itself: the one dispatch every job gets
  if ('contentWithheld' in record.data && record.data.contentWithheld) return false;
  return planEffects(record).dispatch !== null;
}

/** Every record that sends the job after it was done, with what the log says about it. */
function paidAfterDone(stream: readonly RoutingLogRecord[]) {
  return stream.flatMap((record, index) => {
    const before = jobStateOf(stream.slice(0, index));
    if (!before.done || !sendsToProvider(record)) return [];
    return [
      {
        version: record.metadata.version,
        type: record.type,
        done: before.done.reason,
        paidAgain: 'paidAgain' in record.data ? record.data.paidAgain : undefined,
      },
    ];
  });
}

/** Every re-drive that sends a dispatch which was no longer the job's current one. */
function staleRedrives(stream: readonly RoutingLogRecord[]) {
  return stream.flatMap((record, index) => {
    if (record.type !== 'ProjectionRedriveRequested' || !sendsToProvider(record)) return [];
    const before = jobStateOf(stream.slice(0, index));
    return record.data.redriveOf === before.current?.version
      ? []
      : [{ version: record.metadata.version, redriveOf: record.data.redriveOf }];
  });
}

describe('no paid job is dispatched again without the operator’s flag (property)', () => {
  it('given any history without --pay-again-for, then nothing is sent to a provider after the job is done, and no re-drive sends a superseded dispatch', async () => {
    await fc.assert(
      fc.asyncProperty(firstDecision, fc.array(op(false), { maxLength: 14 }), async (make, ops) => {
        const stream = await run(make(), ops);
        expect(paidAfterDone(stream)).toEqual([]);
        expect(staleRedrives(stream)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('given histories where the operator sometimes names the job, then every send after done is one the log records as paid again on purpose', async () => {
    await fc.assert(
      fc.asyncProperty(firstDecision, fc.array(op(true), { maxLength: 14 }), async (make, ops) => {
        const stream = await run(make(), ops);
        for (const paid of paidAfterDone(stream)) expect(paid.paidAgain).toBeDefined();
        expect(staleRedrives(stream)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('given the drill’s history — re-routed, completed on Replicate; another job rejected retries_exhausted — then a fal replay sends neither', async () => {
    const completed = aDecisionRecord(JOB);
    const completedStream = await run(completed, [
      { kind: 'providerFailure', dispatch: 1, provider: 'fal' },
      { kind: 'complete', dispatch: 2, provider: 'replicate' },
      { kind: 'replay', incident: 'INC-1', providers: ['fal'], outcome: 'routed', payAgain: false },
      {
        kind: 'replay',
        incident: 'INC-2',
        providers: ['fal', 'replicate'],
        outcome: 'routed',
        payAgain: false,
      },
    ]);
    expect(completedStream.map((record) => record.type)).toEqual([
      'RoutingDecided',
      'RoutingRevised',
      'DispatchOutcomeRecorded',
    ]);

    const rejected = aDecisionRecord(JOB);
    const rejectedStream = await run(rejected, [
      { kind: 'providerFailure', dispatch: 1, provider: 'fal' },
      { kind: 'providerFailure', dispatch: 2, provider: 'replicate' },
      { kind: 'replay', incident: 'INC-1', providers: ['fal'], outcome: 'routed', payAgain: false },
    ]);
    expect(rejectedStream.map((record) => record.type)).toEqual([
      'RoutingDecided',
      'RoutingRevised',
      'RoutingRevised',
    ]);
    expect(jobStateOf(rejectedStream).done?.reason).toBe('rejected');
  });
});
