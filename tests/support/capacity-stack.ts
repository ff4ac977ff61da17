/**
 * One in-memory stack for the capacity tests (holds, held re-routes): the real commands — RouteJob,
 * HandleProviderSignal, the slot release, the Holds messages — over the in-memory ports, with a
 * clock the test moves. Each helper does what the deployed function would for one event.
 */
import { handleProviderSignal } from '../../src/commands/handle-provider-signal.ts';
import type { HeldJobDependencies } from '../../src/commands/hold-job.ts';
import { releaseCompletedSlot } from '../../src/commands/release-slot.ts';
import { type RouteJobDependencies, routeJob } from '../../src/commands/route-job.ts';
import { handleHoldMessage } from '../../src/handlers/holds.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryHoldBacklog } from '../../src/memory/in-memory-hold-backlog.ts';
import { InMemoryProviderHealthStore } from '../../src/memory/in-memory-provider-health-store.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { InMemorySlotLedger } from '../../src/memory/in-memory-slot-ledger.ts';
import { parseHealthSignal } from '../../src/provider-health/signals.ts';
import { readProviderSlots } from '../../src/provider-health/slot-claims.ts';
import type { EtaContext } from '../../src/routing/eta.ts';
import type { RoutingTable } from '../../src/routing/routing-table.ts';
import { fixedRules } from '../../src/rules/active-rules.ts';
import { inMemoryContentPorts } from './content.ts';
import { anAttemptEvent } from './health-signals.ts';
import { aSubmissionDetail, aSubmittedEvent } from './submissions.ts';

/** A stack routing under `table` from `startMs`, with ETA quotes from `eta` when given. */
export function aCapacityStack(table: RoutingTable, startMs: number, eta?: EtaContext) {
  const clock = { now: startMs };
  const log = new InMemoryRoutingLog();
  const ledger = new InMemorySlotLedger();
  const backlog = new InMemoryHoldBacklog();
  const rules = fixedRules(table);
  const now = () => new Date(clock.now);
  const etaPort = eta ? { eta: { reader: { context: async () => eta } } } : {};
  const capacity = { ledger, backlog, recheckSec: 30 };
  const router: RouteJobDependencies = {
    log,
    credits: new InMemoryCreditBalances(),
    table,
    ...inMemoryContentPorts(new InMemoryContentVault()),
    now,
    newId: () => 'generated-id',
    capacity,
    ...etaPort,
  };
  const holds: HeldJobDependencies = { log, rules, ledger, backlog, now, recheckSec: 30, ...etaPort };
  const signals = {
    store: new InMemoryProviderHealthStore(log),
    slots: { ledger, rules, backlog },
    revise: { log, rules, capacity, ...etaPort },
  };
  const streamOf = (jobId: string) => log.readStream(`job#${jobId}`);
  const stateOf = async (jobId: string) => jobStateOf(await streamOf(jobId));
  const currentDispatchOf = async (jobId: string) => {
    const current = (await stateOf(jobId)).dispatches.at(-1);
    if (!current) throw new Error(`${jobId} was never dispatched`);
    return current;
  };
  /** A submission one second after the last step; returns the record the router appended. */
  const submit = async (overrides: Record<string, unknown> = {}) => {
    clock.now += 1000;
    const detail = aSubmissionDetail(overrides);
    return (await routeJob({ type: 'RouteJob', data: { event: aSubmittedEvent(detail) } }, router)).record;
  };
  /** The provider reports the job's current dispatch failed (a provider-side class: re-routed). */
  const fail = async (jobId: string, signal = `sig-${jobId}`) => {
    clock.now += 1000;
    const current = await currentDispatchOf(jobId);
    const event = anAttemptEvent(
      {
        jobId,
        provider: current.decision.data.provider,
        model: current.decision.data.model,
        dispatchId: `${jobId}:v${current.version}`,
        errorClass: 'server_error',
        ts: new Date(clock.now).toISOString(),
      },
      { id: signal },
    );
    const parsed = parseHealthSignal({ ...event, time: new Date(clock.now).toISOString() });
    if (!parsed.ok) throw new Error(parsed.problem);
    return handleProviderSignal(parsed.signal, signals);
  };
  /** A terminal completion of the job's current dispatch: frees its slot, wakes the line. */
  const complete = async (jobId: string) => {
    const current = await currentDispatchOf(jobId);
    return releaseCompletedSlot(
      {
        provider: current.decision.data.provider,
        dispatchId: `${jobId}:v${current.version}`,
        outcome: 'succeeded',
      },
      { ledger, rules, backlog },
    );
  };
  /** Handles every backlog message sent so far (as the Holds function would), returns what they decided. */
  const handleBacklog = async () => {
    const decided = [];
    for (const message of backlog.take()) decided.push(...(await handleHoldMessage(message, holds)).decided);
    return decided;
  };
  /** Jobs in flight on `provider` as every router reads the ledger now. */
  const inFlight = async (provider: string) =>
    (
      await readProviderSlots(
        ledger,
        [{ provider, concurrency: table.providers[provider]?.concurrency ?? 0 }],
        clock.now,
      )
    )[0]?.inFlight;
  return {
    clock,
    log,
    ledger,
    backlog,
    holds,
    router,
    submit,
    fail,
    complete,
    handleBacklog,
    streamOf,
    stateOf,
    inFlight,
  };
}
