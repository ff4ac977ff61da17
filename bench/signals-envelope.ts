/**
 * Signals at any rate, slot reservations and the decision path: the goals of issue 21 as arithmetic
 * on AWS (us-east-1 defaults, template.yaml's settings) next to what DynamoDB Local measured
 * (bench/signals.ts). Pure but for reading the template and writing docs/SCALE.md's section.
 *
 * Every input is shown: DynamoDB's per-item limit (1,000 WCU/s), the WCU of each write (a plain
 * write of a ≤ 1 KB item is 1 WCU; an UPDATE costs the item's whole size), the design's constants
 * (SUCCESS_REGISTER_SHARDS, GROUP_INDEX_SHARDS, SLOTS_PER_SHARD) and the latencies this machine
 * cannot measure (ASSUMED_SIGNAL_MS). The envelope is the deployed function's path: one EventBridge
 * event per invocation, so every signal is a fact group of its own.
 */
import { join, resolve } from 'node:path';
import { GROUP_INDEX_SHARDS } from '../src/aws/dynamodb-signal-windows.ts';
import { SUCCESS_REGISTER_SHARDS } from '../src/provider-health/breaker.ts';
import { WINDOW_MS } from '../src/provider-health/signal-windows.ts';
import { SLOTS_PER_SHARD } from '../src/provider-health/slot-shards.ts';
import type { Row } from './run.ts';
import type { ScaleResult } from './scale.ts';
import {
  envelope,
  envelopeBasis,
  QUOTAS,
  type TemplateSettings,
  templateSettings,
} from './scale-envelope.ts';
import type { SignalsResult } from './signals.ts';
import { writeBetweenMarkers } from './support/doc-markers.ts';

export const SIGNAL_GOALS = {
  /** Deliveries/s ingested on DynamoDB Local, with 0 lost and 0 counted twice. */
  localSignalsPerSecond: 2_000,
  /** Signals/s per provider in the AWS envelope at the template's defaults. */
  envelopeSignalsPerProvider: 10_000,
  /** Jobs/s of the decision path in the AWS envelope at the template's defaults. */
  decisionJobsPerSecond: 5_000,
  /** Slot reservations/s per provider (the envelope; DynamoDB Local's figure is reported). */
  reservationsPerProvider: 1_000,
} as const;

/** AWS latencies this machine cannot measure (in-region, warm): assumed, like ASSUMED_MS. */
export const ASSUMED_SIGNAL_MS = {
  /** Consistent GetItem of the breaker (every signal reads it: is this the probe?). */
  breakerRead: 3,
  /** A success raises its breaker's register: one conditional UpdateItem. */
  registerWrite: 5,
  /** The signal windows: the fact group's PutItem, then its index ADD (UpdateItem), in sequence. */
  windowWrites: 5 + 5,
  /** A counted failure while closed: the breaker read, the register read (BatchGetItem) and the commit. */
  failureCommit: 3 + 5 + 13,
  /** The HealthSignals handler's own CPU per signal on this machine's core, before the 256 MB scaling. */
  handlerCpu: 1,
} as const;

/** A healthy provider's counted-failure share, for the per-provider row (the formula is shown). */
export const HEALTHY_FAILURE_SHARE = 0.004;

export interface EnvelopeLine {
  readonly limit: string;
  readonly arithmetic: string;
  readonly perSecond: number;
  readonly scope: 'per provider' | 'all providers';
}

const PLAIN_WCU = 1;
/** A group index item's fixed part (key, TTL, attribute names) and the bytes one listed group id adds. */
const INDEX_BASE_BYTES = 100;
const INDEX_ID_BYTES = 17;
const f = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * The average WCU of one index ADD when a pair takes `rate` single-signal groups/s: an index item
 * grows by one id per ADD through a window (WINDOW_MS of event time), and an ADD costs its size.
 */
export function averageIndexAddWcu(rate: number): number {
  const perItem = Math.max(1, Math.round((rate * WINDOW_MS) / 1000 / GROUP_INDEX_SHARDS));
  let total = 0;
  for (let k = 1; k <= perItem; k++) total += Math.ceil((INDEX_BASE_BYTES + INDEX_ID_BYTES * k) / 1024);
  return total / perItem;
}

/** The highest rate (signals/s of one pair) whose index items stay within 1,000 WCU/s each. */
function indexCeiling(partitionWcu: number): number {
  let low = 0;
  let high = 1_000_000;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if ((mid / GROUP_INDEX_SHARDS) * averageIndexAddWcu(mid) <= partitionWcu) low = mid;
    else high = mid;
  }
  return low;
}

/** The health path's ceilings in signals/s, at a counted-failure share `failureShare`. */
export function signalEnvelope(
  t: TemplateSettings = templateSettings(),
  failureShare = HEALTHY_FAILURE_SHARE,
): EnvelopeLine[] {
  const q = QUOTAS;
  const register = (SUCCESS_REGISTER_SHARDS * q.partitionWcu) / PLAIN_WCU / (1 - failureShare);
  const failures = 1000 / ASSUMED_SIGNAL_MS.failureCommit / failureShare;
  const index = indexCeiling(q.partitionWcu);
  const indexWcu = averageIndexAddWcu(SIGNAL_GOALS.envelopeSignalsPerProvider);
  // Per signal: the register (successes), the fact group's put and its index ADD.
  const perSignalWru = PLAIN_WCU + PLAIN_WCU + indexWcu;
  const table = q.tableWru / perSignalWru;
  const projectorConcurrency = q.freshTableShards * t.parallelizationFactor;
  const unreserved = q.accountConcurrency - t.routerReservedConcurrency - projectorConcurrency;
  const slowdown = q.vcpuMb / 256;
  const handlerMs =
    ASSUMED_SIGNAL_MS.breakerRead +
    ASSUMED_SIGNAL_MS.registerWrite +
    ASSUMED_SIGNAL_MS.windowWrites +
    ASSUMED_SIGNAL_MS.handlerCpu * slowdown;
  return [
    {
      limit: 'success register of one breaker',
      arithmetic: `${SUCCESS_REGISTER_SHARDS} register items × ${f(q.partitionWcu)} WCU/s ÷ ${PLAIN_WCU} WCU per raise ÷ ${f((1 - failureShare) * 100, 1)} % successes`,
      perSecond: register,
      scope: 'per provider',
    },
    {
      limit: 'counted failures while closed (one breaker item)',
      arithmetic: `1 commit per ${ASSUMED_SIGNAL_MS.failureCommit} ms (GetItem + register BatchGetItem + TransactWriteItems, serialised) ÷ ${f(failureShare * 100, 1)} % counted failures`,
      perSecond: failures,
      scope: 'per provider',
    },
    {
      limit: 'signal-window group index of one pair',
      arithmetic: `${GROUP_INDEX_SHARDS} index items × ${f(q.partitionWcu)} WCU/s; one ADD per signal (one event per call) costs the item's size, which grows by ${INDEX_ID_BYTES} B per id through a ${WINDOW_MS / 1000} s window (at this rate ≈ ${f(averageIndexAddWcu(index), 1)} WCU per ADD)`,
      perSecond: index,
      scope: 'per provider',
    },
    {
      limit: 'HealthSignals concurrency (unreserved pool)',
      arithmetic: `(${f(q.accountConcurrency)} − ${t.routerReservedConcurrency} router − ${projectorConcurrency} projector) ÷ (${ASSUMED_SIGNAL_MS.breakerRead} ms GetItem + ${ASSUMED_SIGNAL_MS.registerWrite} ms register + ${ASSUMED_SIGNAL_MS.windowWrites} ms fact put and index ADD + ${ASSUMED_SIGNAL_MS.handlerCpu} ms CPU × ${f(slowdown, 1)} = ${f(handlerMs, 1)} ms)`,
      perSecond: (unreserved * 1000) / handlerMs,
      scope: 'all providers',
    },
    {
      limit: 'ProviderHealth on-demand table quota',
      arithmetic: `${f(q.tableWru)} WRU ÷ (${PLAIN_WCU} register + ${PLAIN_WCU} fact put + ${f(indexWcu, 1)} index ADD WRU per signal at ${f(SIGNAL_GOALS.envelopeSignalsPerProvider)}/s of one pair); adjustable quota`,
      perSecond: table,
      scope: 'all providers',
    },
    {
      limit: 'EventBridge target invocations (account)',
      arithmetic: `${f(q.eventBridgeInvocations)} ÷ 1 invocation per signal (shared with the router and consumers)`,
      perSecond: q.eventBridgeInvocations,
      scope: 'all providers',
    },
  ];
}

/** Slot reservations per provider with concurrency `concurrency`: a take and a release, 1 WCU each. */
export function slotEnvelope(concurrency: number): EnvelopeLine[] {
  const shards = Math.max(1, Math.ceil(concurrency / SLOTS_PER_SHARD));
  return [
    {
      limit: `slot ledger of one provider, concurrency ${f(concurrency)} (${f(shards)} shards)`,
      arithmetic: `${f(shards)} shard items × ${f(QUOTAS.partitionWcu)} WCU/s ÷ (${PLAIN_WCU} take + ${PLAIN_WCU} release WCU)`,
      perSecond: (shards * QUOTAS.partitionWcu) / (2 * PLAIN_WCU),
      scope: 'per provider',
    },
    {
      limit: 'ProviderHealth on-demand table quota',
      arithmetic: `${f(QUOTAS.tableWru)} WRU ÷ 2 WRU per reservation (take + release)`,
      perSecond: QUOTAS.tableWru / (2 * PLAIN_WCU),
      scope: 'all providers',
    },
  ];
}

/** The decision path's ceiling (the smallest on-path row of the scale envelope), when a scale run exists. */
export function decisionPath(scale: ScaleResult | undefined, t: TemplateSettings = templateSettings()) {
  const basis = scale ? envelopeBasis(scale.checkpoints) : undefined;
  if (!basis) return undefined;
  const [first] = envelope(basis, t)
    .filter((r) => !r.offPath)
    .sort((a, b) => a.jobsPerSecond - b.jobsPerSecond);
  return first;
}

const minOf = (lines: readonly EnvelopeLine[], scope: EnvelopeLine['scope']) =>
  Math.min(...lines.filter((l) => l.scope === scope).map((l) => l.perSecond));

const status = (met: boolean) => (met ? 'met' : 'MISSED');

/** `BatchGetItem 202 · PutItem 404 (3 refused) · …`: a run's requests by command. */
const requestMix = (r: SignalsResult['batch']): string =>
  Object.entries(r.requestsByCommand ?? {})
    .map(([command, n]) => {
      const refused = r.refusedByCommand?.[command] ?? 0;
      return `${command} ${f(n)}${refused > 0 ? ` (${f(refused)} refused)` : ''}`;
    })
    .join(' · ') || '—';

/** Section 9 of the bench's table: measured on DynamoDB Local, then the envelope, each against its goal. */
export function signalsRows(run: SignalsResult, scale: ScaleResult | undefined): Row[] {
  const g = SIGNAL_GOALS;
  const b = run.batch;
  const h = run.oneByOne;
  const clean = (r: typeof b) =>
    r.lost === 0 &&
    r.doubleCounted === 0 &&
    r.windowsOff === 0 &&
    r.registersOff === 0 &&
    r.failuresRecordedTwice === 0;
  const signals = signalEnvelope();
  const perProvider = minOf(signals, 'per provider');
  const atTwoPercent = minOf(signalEnvelope(templateSettings(), 0.02), 'per provider');
  const decision = decisionPath(scale);
  const slots = minOf(slotEnvelope(run.slots.concurrency), 'per provider');
  return [
    ['**9. Signals at any rate and slot reservations** (issue 21; docs/SCALE.md)', '', '', '', ''],
    [
      `Signals ingested/s on DynamoDB Local, batches of ${b.batchSize}, ${b.inFlight} in flight (${f(b.delivered)} deliveries, ${f(b.redelivered)} redelivered)`,
      f(b.signalsPerSecond),
      '',
      `≥ ${f(g.localSignalsPerSecond)}`,
      status(b.signalsPerSecond >= g.localSignalsPerSecond && clean(b)),
    ],
    [
      `  · DynamoDB requests per signal (reads and writes) · of them writes (fact groups, group index, success registers, failure commits)`,
      `${b.requestsPerSignal === undefined ? '—' : f(b.requestsPerSignal, 3)} · ${f(b.writesPerSignal, 3)}`,
      '',
      '< 1',
      b.writesPerSignal < 1 ? 'met' : 'MISSED',
    ],
    [
      `  · requests by command (refused: a cancelled transaction or failed condition)`,
      requestMix(b),
      '',
      '—',
      'reported',
    ],
    [
      `  · CPU per signal: this process (parsing, our code, the SDK, the harness) · DynamoDB Local's; load average at the start → end`,
      `${b.cpuMsPerSignal === undefined ? '—' : `${f(b.cpuMsPerSignal, 3)} ms`} · ${b.emulatorCpuMsPerSignal === undefined ? '—' : `${f(b.emulatorCpuMsPerSignal, 3)} ms`}; ${f(b.loadAverageAtStart ?? run.loadAverage ?? 0, 2)} → ${f(b.loadAverageAtEnd ?? run.loadAverage ?? 0, 2)}`,
      '',
      '—',
      'reported',
    ],
    [
      `  · the emulator's own ceiling this run: plain BatchWriteItem items/s · single PutItem calls/s (~6 KB)`,
      `${f(run.emulatorPlainWritesPerSecond ?? 0)} · ${f(run.emulatorPutItemCallsPerSecond ?? 0)}`,
      '',
      '—',
      'reported',
    ],
    [
      '  · signals lost · counted twice · closed windows ≠ reference fold · registers off · failures recorded twice',
      `${b.lost} · ${b.doubleCounted} · ${b.windowsOff} · ${b.registersOff} · ${b.failuresRecordedTwice}`,
      '',
      '0 · 0 · 0 · 0 · 0',
      status(clean(b)),
    ],
    [
      `Signals/s one event per call (the HealthSignals function today), ${h.inFlight} in flight; lost · twice · windows off; writes per signal`,
      `${f(h.signalsPerSecond)}; ${h.lost} · ${h.doubleCounted} · ${h.windowsOff}; ${f(h.writesPerSignal, 2)}`,
      '',
      '—',
      clean(h) ? 'reported' : 'FAILED',
    ],
    [
      `Envelope: signals/s per provider at ${f(HEALTHY_FAILURE_SHARE * 100, 1)} % counted failures (at 2 %: ${f(atTwoPercent)})`,
      f(perProvider),
      '',
      `≥ ${f(g.envelopeSignalsPerProvider)}`,
      status(perProvider >= g.envelopeSignalsPerProvider),
    ],
    [
      'Envelope: decision path jobs/s (first bottleneck)',
      decision ? `${f(decision.jobsPerSecond)} (${decision.limit.split(':')[0]})` : 'no scale run',
      '',
      `≥ ${f(g.decisionJobsPerSecond)}`,
      decision ? status(decision.jobsPerSecond >= g.decisionJobsPerSecond) : 'NOT MEASURED',
    ],
    [
      `Slot reservations/s on DynamoDB Local (take + release, C = ${f(run.slots.concurrency)}, ${run.slots.shards} shards, ${run.slots.inFlight} in flight); left in flight`,
      `${f(run.slots.reservationsPerSecond)}; ${run.slots.leftInFlight}`,
      '',
      '— (the goal is the envelope, next row); 0 left',
      run.slots.leftInFlight === 0 ? 'reported' : 'FAILED',
    ],
    [
      `Envelope: slot reservations/s per provider (C = ${f(run.slots.concurrency)})`,
      f(slots),
      '',
      `≥ ${f(g.reservationsPerProvider)}`,
      status(slots >= g.reservationsPerProvider),
    ],
  ];
}

const SCALE_DOC = join(resolve(import.meta.dirname, '..'), 'docs/SCALE.md');
export const SIGNALS_MARKERS = {
  begin: '<!-- signals-run:begin -->',
  end: '<!-- signals-run:end -->',
} as const;

const table = (lines: readonly EnvelopeLine[]) =>
  lines.map((l) => `| ${l.limit} (${l.scope}) | ${l.arithmetic} | ${f(l.perSecond)} |`).join('\n');

/** The section between SIGNALS_MARKERS in docs/SCALE.md: measured figures and the envelope. */
export function renderSignalsRun(run: SignalsResult, scale: ScaleResult | undefined): string {
  const rows = signalsRows(run, scale).slice(1);
  const decision = decisionPath(scale);
  const t = templateSettings();
  return `${SIGNALS_MARKERS.begin}
Generated by \`bench/signals.ts\` and \`bench/signals-envelope.ts\` (\`npm run bench\`, or
\`npm run bench -- --only signals\`) — do not edit by hand.

| measure | ours | goal | status |
| --- | ---: | ---: | --- |
${rows.map(([metric, ours, , goal, s]) => `| ${metric} | ${ours} | ${goal} | ${s} |`).join('\n')}

How it is measured: ${f(run.batch.distinct)} distinct attempt signals of two providers (70 / 30 %), every
50th a counted failure, every 20th delivered a second time about 200 deliveries later (in another
batch), go through \`ingestSignalBatch\` in batches of ${run.batch.batchSize}, ${run.batch.inFlight} at once, on DynamoDB Local,
each batch's events parsed in the timed path as the function parses them: the breakers (one read
per batch, one commit per breaker changed, one register write per breaker) and the signal windows
(a fact group per window touched and its index entry). Every request the client sends is counted by
command, with those DynamoDB refused (a cancelled transaction: a breaker commit that lost a race, or
a failure delivered again; a failed condition: a register already as new), and the CPU of this
process and of DynamoDB Local's Java process is read around the run. The
windows' clock is held at the workload's start while ingesting, then moved past every window and
each window closed; every closed window is compared with the reference fold of the distinct
signals (\`foldWindows\`), every breaker's register with its newest success, and no failure may be
\`recorded\` twice. The one-event-per-call row is the deployed function's path (one EventBridge event
per invocation: every signal a fact group of its own). Rates on the emulator are not AWS's: in the
same run DynamoDB Local took ${f(run.emulatorPutItemCallsPerSecond ?? 0)} single PutItem calls/s and wrote
${f(run.emulatorPlainWritesPerSecond ?? 0)} plain items/s by BatchWriteItem of 25 (8 at once), at a load average of ${f(run.loadAverage ?? 0, 2)} on
this shared 2-core machine: its limit is requests, not items or bytes, which is why a batch is
written as a few fact groups rather than one write per signal.

**Health signals, AWS envelope** — the deployed path, one event per call (us-east-1 defaults;
latencies assumed: ${Object.entries(ASSUMED_SIGNAL_MS)
    .map(([k, v]) => `${k} ${v} ms`)
    .join(', ')}):

| limit | arithmetic | signals/s |
| --- | --- | ---: |
${table(signalEnvelope(t))}

At 2 % counted failures the breaker row is ${f(1000 / ASSUMED_SIGNAL_MS.failureCommit / 0.02)} signals/s: counted failures are
still one conditional commit each on the breaker item (docs/ARCHITECTURE.md, "Limits that remain").
The table-wide quota row is shared by all providers; a batched consumer (SQS in front of the
function, not built) would write one fact group and one index entry per batch and window instead
of per signal, which lifts the index and table rows by about the batch size.

**Slot reservations, AWS envelope:**

| limit | arithmetic | reservations/s |
| --- | --- | ---: |
${table(slotEnvelope(run.slots.concurrency))}

**Decision path** at template.yaml's settings (RouterReservedConcurrency ${t.routerReservedConcurrency}, ParallelizationFactor ${t.parallelizationFactor}), from the last
scale run's per-job figures: first bottleneck ${decision ? `${decision.limit}, ≈ ${f(decision.jobsPerSecond)} jobs/s (${decision.arithmetic})` : 'not computed (no scale run recorded)'}.
${SIGNALS_MARKERS.end}`;
}

export function writeSignalsDoc(run: SignalsResult, scale: ScaleResult | undefined): void {
  writeBetweenMarkers(SCALE_DOC, SIGNALS_MARKERS, renderSignalsRun(run, scale));
}
