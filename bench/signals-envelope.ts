/**
 * Signals at any rate, slot reservations and the decision path: the goals of issue 21 as arithmetic
 * on AWS (us-east-1 defaults, template.yaml's settings) next to what DynamoDB Local measured
 * (bench/signals.ts). Pure but for reading the template and writing docs/SCALE.md's section.
 *
 * Every input is shown: DynamoDB's per-item limit (1,000 WCU/s), the WCU of each write (a plain
 * write of a ≤ 1 KB item is 1 WCU; an UPDATE costs the item's whole size), the design's constants
 * (SUCCESS_REGISTER_SHARDS, GROUP_INDEX_SHARDS, SLOTS_PER_SHARD) and the latencies this machine
 * cannot measure (ASSUMED_SIGNAL_MS). The envelope is the deployed path: HealthSignalsRule →
 * HealthSignalsQueue → the HealthSignals function in batches of its event source's BatchSize, capped
 * by its MaximumConcurrency (both read from the template), so a batch is one fact group per window
 * and one register raise per breaker and run of successes.
 */
import { join, resolve } from 'node:path';
import { GROUP_INDEX_SHARDS } from '../src/aws/dynamodb-signal-windows.ts';
import { FOLLOW_UPS_IN_FLIGHT } from '../src/commands/handle-provider-signal.ts';
import { SUCCESS_REGISTER_SHARDS } from '../src/provider-health/breaker.ts';
import { completedFact, factGroups, WINDOW_MS } from '../src/provider-health/signal-windows.ts';
import { attemptKeyOf } from '../src/provider-health/signals.ts';
import { SLOTS_PER_SHARD } from '../src/provider-health/slot-shards.ts';
import { readTemplate, type TemplateDict } from '../src/template/cloudformation-template.ts';
import type { Row } from './run.ts';
import type { ScaleResult } from './scale.ts';
import {
  DOCUMENTED_SIGNAL_PATH,
  decisionPathRows,
  envelope,
  envelopeBasis,
  limitName,
  num,
  QUOTAS,
  SIGNAL_PATH_NAMES,
  SIGNAL_PATHS,
  SIGNALS_PER_JOB,
  type SignalPath,
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
  /**
   * One consistent BatchGetItem of the batch's breakers and of the registers of those its counted
   * failures may count against (16 items a breaker: one call for a batch of one or two pairs).
   */
  breakerRead: 5,
  /** The batch's successes raise their breaker's register: one conditional UpdateItem per breaker and batch. */
  registerWrite: 5,
  /** The batch's signal windows: its fact group's PutItem, then the group's index ADD (UpdateItem). */
  windowWrites: 5 + 5,
  /**
   * A breaker's commit of the batch's signals that changed it (TransactWriteItems: a marker each, the
   * breaker, any transition), decided on the batch's one read: one per breaker and batch whose
   * newest counted attempt is a counted failure (its run outlasts the batch).
   */
  breakerCommit: 13,
  /**
   * The markers of counted failures a newer success of their batch broke, appended alone with no
   * expected version (one TransactWriteItems of the markers, all or none, no breaker item: as long as
   * a commit, but never contended): in a batch that holds such a failure and commits nothing.
   */
  markerWrite: 13,
  /** A terminal report's job stream: the stream's Query, then the outcome record's conditional PutItem. */
  jobStream: 5 + 5,
  /**
   * The handler's own CPU per signal on this machine's core, before the memory size's scaling: the
   * handler took 0.14 ms a signal in batches of 100 on in-memory stores (no SDK); 1 ms leaves the
   * SDK's marshalling and the job streams' reads their share.
   */
  handlerCpu: 1,
} as const;

/** A healthy provider's counted-failure share, for the per-provider rows (the formula is shown). */
export const HEALTHY_FAILURE_SHARE = 0.004;

export interface EnvelopeLine {
  readonly limit: string;
  readonly arithmetic: string;
  readonly perSecond: number;
  readonly scope: 'per provider' | 'all providers';
}

/** The HealthSignals function's event source and size, read from template.yaml. */
export interface SignalSettings {
  /** Records per invocation (the SQS event source's BatchSize). */
  readonly batchSize: number;
  readonly batchingWindowSec: number;
  /** The event source's MaximumConcurrency (HealthSignalsMaxConcurrency's default). */
  readonly maxConcurrency: number;
  readonly memoryMb: number;
}

export function signalSettings(): SignalSettings {
  const template = readTemplate();
  const fn = template.Resources.HealthSignalsFunction?.Properties ?? {};
  const events = (fn.Events ?? {}) as Record<string, { Type?: string; Properties?: TemplateDict }>;
  const source = Object.values(events).find((event) => event.Type === 'SQS')?.Properties ?? {};
  const scaling = (source.ScalingConfig ?? {}) as TemplateDict;
  const concurrency = scaling.MaximumConcurrency as { Ref?: string } | number | undefined;
  const maxConcurrency =
    typeof concurrency === 'object' && concurrency?.Ref
      ? num(template.Parameters[concurrency.Ref]?.Default, 1000)
      : num(concurrency, 1000);
  return {
    batchSize: num(source.BatchSize, 10),
    batchingWindowSec: num(source.MaximumBatchingWindowInSeconds, 0),
    maxConcurrency,
    memoryMb: num(fn.MemorySize, num(template.Globals.Function.MemorySize, 128)),
  };
}

const PLAIN_WCU = 1;
/** A transaction's write costs twice a plain one, per item: a commit's markers and breaker, a markers-only append's markers. */
const TRANSACTION_WRU_PER_ITEM = 2;
/** A group index item's fixed part (key, TTL, attribute names) and the bytes one listed group id adds. */
const INDEX_BASE_BYTES = 100;
const INDEX_ID_BYTES = 17;
const f = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * The average WCU of one index ADD when a pair takes `groupsPerSecond` fact groups/s: an index item
 * grows by one id per ADD through a window (WINDOW_MS of event time), and an ADD costs its size.
 */
export function averageIndexAddWcu(groupsPerSecond: number): number {
  const perItem = Math.max(1, Math.round((groupsPerSecond * WINDOW_MS) / 1000 / GROUP_INDEX_SHARDS));
  let total = 0;
  for (let k = 1; k <= perItem; k++) total += Math.ceil((INDEX_BASE_BYTES + INDEX_ID_BYTES * k) / 1024);
  return total / perItem;
}

/** The most fact groups/s of one pair whose index items stay within 1,000 WCU/s each. */
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

/**
 * What one full batch of one pair's attempts writes to its window: the fact groups `factGroups`
 * makes of `batchSize` completions (keys and counters as the handler builds them), and their WRU.
 */
export function batchFactGroups(batchSize: number): { readonly groups: number; readonly wru: number } {
  const atMs = Date.UTC(2026, 0, 1);
  const facts = Array.from({ length: batchSize }, (_, i) =>
    completedFact({
      key: attemptKeyOf({ dispatchId: `job-${i}:v1`, outcome: 'succeeded' }),
      atMs,
      provider: 'fal',
      model: 'wan-i2v',
      outcome: 'succeeded',
      errorClass: null,
      runMs: 40_000 + i,
      job: { resolution: '1080p', lengthSec: 10 },
    }),
  );
  const groups = factGroups(facts);
  // The item: its key and TTL besides the facts' text (≈ 100 B), rounded up to whole KB per write.
  const wru = groups.reduce((sum, g) => sum + Math.ceil((Buffer.byteLength(g.text) + 100) / 1024), 0);
  return { groups: groups.length, wru };
}

/** One batch's time on the function: its waits on DynamoDB and its CPU at the function's memory size. */
export function batchMs(s: SignalSettings = signalSettings(), failureShare = HEALTHY_FAILURE_SHARE) {
  const a = ASSUMED_SIGNAL_MS;
  const q = failureShare;
  // One register raise per breaker and batch (a batch of one pair). A commit on the breaker only when
  // the batch's newest counted attempt is a counted failure (its run outlasts the batch): a share q
  // of the batches. In the others, failures a newer success broke append only their markers (one
  // transaction): the batches holding one, (1 − q) × (1 − (1 − q)^(BatchSize − 1)). (N failures in a row inside a
  // batch also commit, an opening: BatchSize × q^N, under 10⁻⁶ at 2 %, left out.)
  const runs = 1;
  const commits = q;
  const marks = (1 - q) * (1 - (1 - q) ** (s.batchSize - 1));
  const slowdown = QUOTAS.vcpuMb / s.memoryMb;
  const parts = {
    breakers: a.breakerRead + a.registerWrite * runs + a.breakerCommit * commits + a.markerWrite * marks,
    jobStreams: Math.ceil(s.batchSize / FOLLOW_UPS_IN_FLIGHT) * a.jobStream,
    windows: a.windowWrites,
    cpu: a.handlerCpu * s.batchSize * slowdown,
  };
  return {
    ...parts,
    runs,
    commits,
    marks,
    slowdown,
    total: parts.breakers + parts.jobStreams + parts.windows + parts.cpu,
  };
}

/**
 * The health path's ceilings in signals/s on the deployed path — HealthSignalsRule →
 * HealthSignalsQueue → the function in batches of the event source's BatchSize — at a counted-failure
 * share `failureShare`.
 */
export function signalEnvelope(
  t: TemplateSettings = templateSettings(),
  failureShare = HEALTHY_FAILURE_SHARE,
  s: SignalSettings = signalSettings(),
): EnvelopeLine[] {
  const q = QUOTAS;
  const b = s.batchSize;
  const time = batchMs(s, failureShare);
  const { groups, wru: groupWru } = batchFactGroups(b);
  const register = (SUCCESS_REGISTER_SHARDS * q.partitionWcu * b) / (PLAIN_WCU * time.runs);
  // The breaker item takes one commit at a time; each carries a batch's counted failures of it.
  const failures = ((1000 / ASSUMED_SIGNAL_MS.breakerCommit) * b) / time.commits;
  const indexGroups = indexCeiling(q.partitionWcu);
  const index = (indexGroups * b) / groups;
  const atGoal = SIGNAL_GOALS.envelopeSignalsPerProvider;
  const indexWcu = averageIndexAddWcu((atGoal / b) * groups);
  // Per batch: the register raises, the fact groups, their index ADDs and the counted failures'
  // markers. A commit (a share q of the batches: the newest attempt a failure) writes the breaker and
  // a marker per counted failure of its batch, 1 + (b − 1) q of them; in the other batches the
  // (b − 1) q failures a newer success broke are one markers-only transaction, 2 WRU a marker (q: `share`).
  const share = failureShare;
  const commitWru = TRANSACTION_WRU_PER_ITEM * time.commits * (1 + 1 + (b - 1) * share);
  const markWru = TRANSACTION_WRU_PER_ITEM * (1 - share) * (b - 1) * share;
  const batchWru = time.runs * PLAIN_WCU + groupWru + groups * indexWcu + commitWru + markWru;
  const table = (q.tableWru * b) / batchWru;
  const projectorConcurrency = q.freshTableShards * t.parallelizationFactor;
  const unreserved = q.accountConcurrency - t.routerReservedConcurrency - projectorConcurrency;
  const concurrency = Math.min(s.maxConcurrency, unreserved);
  return [
    {
      limit: 'success register of one breaker',
      arithmetic: `${SUCCESS_REGISTER_SHARDS} register items × ${f(q.partitionWcu)} WCU/s × ${b} signals a batch ÷ ${f(time.runs, 1)} raise a batch (one per breaker and batch)`,
      perSecond: register,
      scope: 'per provider',
    },
    {
      limit: 'counted failures while closed (one breaker item)',
      arithmetic: `1 commit per ${ASSUMED_SIGNAL_MS.breakerCommit} ms (TransactWriteItems, serialised on the breaker item) × ${b} signals a batch ÷ ${f(time.commits, 3)} commits a batch (the batches whose newest counted attempt is a counted failure, at ${f(failureShare * 100, 1)} %; failures a newer success of their batch broke append only their markers)`,
      perSecond: failures,
      scope: 'per provider',
    },
    {
      limit: 'signal-window group index of one pair',
      arithmetic: `${GROUP_INDEX_SHARDS} index items × ${f(q.partitionWcu)} WCU/s take ${f(indexGroups)} fact groups/s (an ADD costs the item's size, growing by ${INDEX_ID_BYTES} B per group id through a ${WINDOW_MS / 1000} s window) × ${b} signals per ${groups} group(s) a batch`,
      perSecond: index,
      scope: 'per provider',
    },
    {
      limit: `HealthSignals event source: MaximumConcurrency ${s.maxConcurrency} × BatchSize ${b} (${s.memoryMb} MB)`,
      arithmetic: `${concurrency} invocations × ${b} signals ÷ (${f(time.breakers, 1)} ms breakers (BatchGetItem, ${f(time.runs, 1)} register raises, counted failures' commits and markers) + ${f(time.jobStreams)} ms job streams (${Math.ceil(b / FOLLOW_UPS_IN_FLIGHT)} rounds of ${FOLLOW_UPS_IN_FLIGHT} × Query + PutItem) + ${time.windows} ms fact group and index ADD + ${b} × ${ASSUMED_SIGNAL_MS.handlerCpu} ms CPU × ${f(time.slowdown, 1)} = ${f(time.total)} ms a batch)`,
      perSecond: (concurrency * b * 1000) / time.total,
      scope: 'all providers',
    },
    {
      limit: 'ProviderHealth on-demand table quota',
      arithmetic: `${f(q.tableWru)} WRU × ${b} signals ÷ (${f(time.runs, 1)} register + ${groupWru} fact group (${groups} item(s) of ${b} facts) + ${f(groups * indexWcu, 1)} index ADD + ${f(commitWru + markWru, 1)} failure commit and markers-only transaction WRU a batch, 2 a transaction item); adjustable quota`,
      perSecond: table,
      scope: 'all providers',
    },
    {
      limit: 'RoutingLog on-demand table quota',
      arithmetic: `${f(q.tableWru)} WRU ÷ ${PLAIN_WCU} WRU per terminal report's outcome record (shared with the decision path's records)`,
      perSecond: q.tableWru / PLAIN_WCU,
      scope: 'all providers',
    },
    {
      limit: 'EventBridge target invocations (account), signals on EventBridge',
      arithmetic: `${f(q.eventBridgeInvocations)} ÷ 1 delivery to HealthSignalsQueue per signal (shared with the router's rule and consumers' rules; signals sent straight to the queue take none)`,
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

/**
 * The decision path's ceiling (the smallest on-path row of the scale envelope) when the provider
 * signals take `path`, if a scale run exists; `within: 'template'` leaves out the account's
 * EventBridge quotas (raised by a quota request, not by the template) to give what the template's
 * settings allow.
 */
export function decisionPath(
  scale: ScaleResult | undefined,
  t: TemplateSettings = templateSettings(),
  within: 'account' | 'template' = 'account',
  path: SignalPath = DOCUMENTED_SIGNAL_PATH,
) {
  const basis = scale ? envelopeBasis(scale.checkpoints) : undefined;
  if (!basis) return undefined;
  const [first] = decisionPathRows(envelope(basis, t), path, within);
  return first;
}

const minOf = (lines: readonly EnvelopeLine[], scope: EnvelopeLine['scope']) =>
  Math.min(...lines.filter((l) => l.scope === scope).map((l) => l.perSecond));

/** The rate one provider's signals reach: the lowest row, its own or one all providers share. */
export const envelopeFloor = (lines: readonly EnvelopeLine[]): number =>
  Math.min(...lines.map((l) => l.perSecond));

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
  // One provider's signals are bounded by its own rows and by every row all providers share.
  const perProvider = envelopeFloor(signalEnvelope());
  const atTwoPercent = envelopeFloor(signalEnvelope(templateSettings(), 0.02));
  const decision = decisionPath(scale);
  const templateDecision = decisionPath(scale, templateSettings(), 'template');
  const otherPaths = SIGNAL_PATH_NAMES.filter((path) => path !== DOCUMENTED_SIGNAL_PATH);
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
      `Signals/s one event per call (the former deployed path, before HealthSignalsQueue), ${h.inFlight} in flight; lost · twice · windows off; writes per signal`,
      `${f(h.signalsPerSecond)}; ${h.lost} · ${h.doubleCounted} · ${h.windowsOff}; ${f(h.writesPerSignal, 2)}`,
      '',
      '—',
      clean(h) ? 'reported' : 'FAILED',
    ],
    [
      `Envelope: signals/s per provider through HealthSignalsQueue, the lowest row at ${f(HEALTHY_FAILURE_SHARE * 100, 1)} % counted failures (at 2 %: ${f(atTwoPercent)})`,
      f(perProvider),
      '',
      `≥ ${f(g.envelopeSignalsPerProvider)}`,
      status(perProvider >= g.envelopeSignalsPerProvider),
    ],
    [
      `Envelope: decision path jobs/s at the account’s default quotas, ${SIGNAL_PATHS[DOCUMENTED_SIGNAL_PATH].label} (the documented path; first bottleneck)`,
      decision ? `${f(decision.jobsPerSecond)} (${limitName(decision)})` : 'no scale run',
      '',
      `≥ ${f(g.decisionJobsPerSecond)}`,
      decision ? status(decision.jobsPerSecond >= g.decisionJobsPerSecond) : 'NOT MEASURED',
    ],
    // The other paths, honestly: each one's 2 signals a job share the account's EventBridge quotas.
    ...otherPaths.map((path): Row => {
      const other = decisionPath(scale, templateSettings(), 'account', path);
      return [
        `  · the same with ${SIGNAL_PATHS[path].label}`,
        other ? `${f(other.jobsPerSecond)} (${limitName(other)})` : 'no scale run',
        '',
        `≥ ${f(g.decisionJobsPerSecond)}`,
        other ? status(other.jobsPerSecond >= g.decisionJobsPerSecond) : 'NOT MEASURED',
      ];
    }),
    [
      '  · what the template’s settings allow, whatever the signal path (EventBridge quotas raised: a soft-quota request)',
      templateDecision
        ? `${f(templateDecision.jobsPerSecond)} (${limitName(templateDecision)})`
        : 'no scale run',
      '',
      `≥ ${f(g.decisionJobsPerSecond)}`,
      templateDecision ? status(templateDecision.jobsPerSecond >= g.decisionJobsPerSecond) : 'NOT MEASURED',
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
  const b = run.batch;
  const rows = signalsRows(run, scale).slice(1);
  const decision = decisionPath(scale);
  const t = templateSettings();
  const sig = signalSettings();
  const lines = signalEnvelope(t, HEALTHY_FAILURE_SHARE, sig);
  const floor = envelopeFloor(lines);
  const lowest = lines.find((l) => l.perSecond === floor);
  return `${SIGNALS_MARKERS.begin}
Generated by \`bench/signals.ts\` and \`bench/signals-envelope.ts\` (\`npm run bench\`, or
\`npm run bench -- --only signals\`) — do not edit by hand.

| measure | ours | goal | status |
| --- | ---: | ---: | --- |
${rows.map(([metric, ours, , goal, s]) => `| ${metric} | ${ours} | ${goal} | ${s} |`).join('\n')}

How it is measured: ${f(run.batch.distinct)} distinct attempt signals of two providers (70 / 30 %), every
50th a counted failure, every 20th delivered a second time about 200 deliveries later (in another
batch), go through \`ingestSignalBatch\` in batches of ${run.batch.batchSize}, ${run.batch.inFlight} at once, on DynamoDB Local —
\`handleProviderSignals\`, the batch entry point the HealthSignals function runs, given the breakers
and the windows but not its per-job follow-ups (slot releases, job streams: the pipeline's and
holds' sections) — each batch's events parsed in the timed path as the function parses them: the
breakers (one read per batch; one commit per breaker whose run of counted failures outlasts the
batch, else one markers-only transaction of the failures a newer success broke; one register write per breaker) and
the signal windows (a fact group per window touched and its index entry). Every request the client sends is counted by
command, with those DynamoDB refused (a cancelled transaction: a breaker commit that lost a race, or
a failure delivered again, whose commit or markers-only append is refused whole; a failed condition: a register already as new), and the CPU of this
process and of DynamoDB Local's Java process is read around the run. The
windows' clock is held at the workload's start while ingesting, then moved past every window and
each window closed; every closed window is compared with the reference fold of the distinct
signals (\`foldWindows\`), every breaker's register with its newest success, and no failure may be
\`recorded\` twice. The one-event-per-call row is the path the function had before
HealthSignalsQueue (one EventBridge event per invocation: every signal a fact group of its own). Rates on the emulator are not AWS's: in the
same run DynamoDB Local took ${f(run.emulatorPutItemCallsPerSecond ?? 0)} single PutItem calls/s and wrote
${f(run.emulatorPlainWritesPerSecond ?? 0)} plain items/s by BatchWriteItem of 25 (8 at once), at a load average of ${f(run.loadAverage ?? 0, 2)} on
this shared 2-core machine: its limit is requests, not items or bytes, which is why a batch is
written as a few fact groups rather than one write per signal. The CPU row says where the time
goes: DynamoDB Local spent ${b.emulatorCpuMsPerSignal === undefined ? 'an unmeasured' : `${f(b.emulatorCpuMsPerSignal, 3)} ms`} of CPU per signal and this
process ${f(b.cpuMsPerSignal ?? 0, 3)} ms (mostly the SDK's per-request work), so on this machine the rate follows the
emulator's share of two cores shared with whatever else runs (the load average), and requests per
signal — the figure the code controls — is what to compare across runs.

**Health signals, AWS envelope** — the deployed path: HealthSignalsRule → HealthSignalsQueue → the
function in batches (BatchSize ${sig.batchSize}, MaximumBatchingWindowInSeconds ${sig.batchingWindowSec}, MaximumConcurrency ${sig.maxConcurrency}, ${sig.memoryMb} MB; us-east-1
defaults; latencies assumed: ${Object.entries(ASSUMED_SIGNAL_MS)
    .map(([k, v]) => `${k} ${v} ms`)
    .join(', ')}):

| limit | arithmetic | signals/s |
| --- | --- | ---: |
${table(signalEnvelope(t, HEALTHY_FAILURE_SHARE, sig))}

**Per provider, at the template's defaults: ${f(floor)} signals/s** (the lowest row: ${lowest?.limit}), so
≥ ${f(SIGNAL_GOALS.envelopeSignalsPerProvider)} signals/s per provider ${floor >= SIGNAL_GOALS.envelopeSignalsPerProvider ? '**holds**' : '**does not hold**'} while ≤ ${f(HEALTHY_FAILURE_SHARE * 100, 1)} % of them are counted failures. At 2 % counted
failures the breaker row is ${f(signalEnvelope(t, 0.02, sig).find((l) => l.limit.startsWith('counted failures'))?.perSecond ?? 0)} signals/s and the lowest row ${f(envelopeFloor(signalEnvelope(t, 0.02, sig)))}: a batch commits on
its breaker item only when its newest counted attempt is a counted failure — failures a newer success
of their batch broke append only their markers, in one transaction with no expected version (docs/ARCHITECTURE.md, "Signals at any rate"). During an
outage (failures without successes) every batch commits, one commit per breaker and batch, about
${f(1000 / ASSUMED_SIGNAL_MS.breakerCommit)} batches/s per breaker (docs/ARCHITECTURE.md, "Limits that remain"); the rest wait in
HealthSignalsQueue (its age is alarmed). The rows marked "all providers" are shared: two providers at 10,000/s each
would need the event source's row above 20,000 (raise HealthSignalsMaxConcurrency) and the account's
EventBridge invocations quota raised (every signal is one delivery to the queue, and the router's
rule and consumers' rules draw on the same quota). The handler's CPU is assumed at 1 ms a signal;
it measured 0.14 ms a signal in batches of 100 on in-memory stores, so the event source's row is
conservative. The batch is what
lifts the table and index rows: a batch of ${sig.batchSize} writes one fact group, one index ADD and
one register raise per breaker and run of successes, where one event per call wrote each per signal
(the table-quota row was 4,402 signals/s then).

**Slot reservations, AWS envelope:**

| limit | arithmetic | reservations/s |
| --- | --- | ---: |
${table(slotEnvelope(run.slots.concurrency))}

**Decision path** at template.yaml's settings (RouterReservedConcurrency ${t.routerReservedConcurrency}, ParallelizationFactor ${t.parallelizationFactor}) and the account's default
quotas, ${SIGNAL_PATHS[DOCUMENTED_SIGNAL_PATH].label} (docs/EVENT_SCHEMA.md), from the last scale run's per-job
figures: first bottleneck ${decision ? `${decision.limit}, ≈ ${f(decision.jobsPerSecond)} jobs/s (${decision.arithmetic})` : 'not computed (no scale run recorded)'}.${directSignalsNote(scale, sig, lines)}
${SIGNALS_MARKERS.end}`;
}

/**
 * What the documented path moves: its signals leave EventBridge, and they still reach the
 * HealthSignals function, off the decision path: at the decision path's rate a job's 2 signals are
 * compared with the event source's row (all providers), whose excess waits in the queue (alarmed).
 */
function directSignalsNote(
  scale: ScaleResult | undefined,
  sig: SignalSettings,
  lines: readonly EnvelopeLine[],
): string {
  const decision = decisionPath(scale);
  const source = lines.find((l) => l.limit.startsWith('HealthSignals event source'));
  if (!decision || !source) return '';
  const signalsPerSecond = decision.jobsPerSecond * SIGNALS_PER_JOB;
  return ` At that rate the jobs cause ${f(signalsPerSecond)} signals/s (${SIGNALS_PER_JOB} a job), which the
HealthSignals event source takes up to ${f(source.perSecond)}/s (MaximumConcurrency ${sig.maxConcurrency}; the row above)${
    signalsPerSecond > source.perSecond
      ? `: the rest wait in HealthSignalsQueue (its age alarmed) until HealthSignalsMaxConcurrency is raised`
      : ''
  }.`;
}

export function writeSignalsDoc(run: SignalsResult, scale: ScaleResult | undefined): void {
  writeBetweenMarkers(SCALE_DOC, SIGNALS_MARKERS, renderSignalsRun(run, scale));
}
