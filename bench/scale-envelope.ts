/**
 * The scale envelope (docs/SCALE.md): sustained jobs/s on AWS per limit the design meets, computed
 * from template.yaml's settings, the design's constants, AWS's default quotas (us-east-1, cited in
 * SCALE.md) and the per-job figures the scale run measured. Pure: no I/O besides reading the
 * template. The smallest ceiling is the first bottleneck; each row says what lifts it.
 */
import { AUDIT_SHARDS } from '../src/log/routing-records.ts';
import { SUCCESS_REGISTER_SHARDS } from '../src/provider-health/breaker.ts';
import { readTemplate, type TemplateDict } from '../src/template/cloudformation-template.ts';
import type { ScaleCheckpoint } from './scale.ts';
import { MIX } from './support/workload.ts';

/** AWS defaults in us-east-1 (docs/SCALE.md cites each) and the design's own constants. */
export const QUOTAS = {
  /** Lambda: one vCPU at 1,769 MB, proportionally less below. */
  vcpuMb: 1769,
  /** Lambda: 1,000 concurrent executions per account and region, 100 of which stay unreserved. */
  accountConcurrency: 1000,
  unreservedMinimum: 100,
  /** DynamoDB: write units per second per partition (table or index). */
  partitionWcu: 1000,
  /** DynamoDB on-demand: write request units per second per table. */
  tableWru: 40_000,
  /** DynamoDB on-demand: a new table sustains 4,000 writes/s, so it has ≥ 4 partitions (stream shards). */
  freshTableShards: 4,
  /** Lambda event source mapping: ParallelizationFactor maximum. */
  maxParallelizationFactor: 10,
  /** EventBridge, us-east-1: target invocations/s and PutEvents requests/s, per account. */
  eventBridgeInvocations: 18_750,
  putEventsRequests: 10_000,
  /** The audit index shards the lift proposes. */
  liftedAuditShards: 32,
} as const;

/**
 * What cannot be measured here: AWS latencies of the calls the handlers wait on. A conditional
 * PutItem; one projector batch's rounds of calls (markers, dispatch, Jobs statuses, markers); a
 * breaker commit (consistent GetItem + TransactWriteItems).
 */
export const ASSUMED_MS = { putItem: 5, projectorBatchWaits: 80, breakerCommit: 18 } as const;

/**
 * What each job costs the account's EventBridge quotas besides its own submission and announcement:
 * the provider signals it causes (docs/EVENT_SCHEMA.md) — a `provider.job.started` and a terminal
 * `provider.attempt.completed` for a dispatched job, each one target invocation (HealthSignalsRule →
 * HealthSignalsQueue) and, when an invoker reports each as it happens, one PutEvents request. They
 * share the account's quotas with the decision path, so the decision path's ceilings count them.
 */
export const SIGNALS_PER_JOB = 2;
/** PutEvents takes up to 10 entries a request: an invoker that batches its signals needs a tenth. */
export const SIGNALS_PER_PUT_EVENTS = 10;

/**
 * The ways an invoker's signals reach HealthSignalsQueue (docs/EVENT_SCHEMA.md), and what each costs
 * the account's EventBridge quotas per job: PutEvents requests and target invocations.
 *   - `eventbridge-each`: one PutEvents request per signal; HealthSignalsRule delivers each (1 invocation);
 *   - `eventbridge-batched`: up to 10 signals a PutEvents request; still 1 invocation per signal;
 *   - `direct`: SendMessageBatch straight to the queue (the invoker's role named in
 *     `SignalInvokerPrincipalArns`): no EventBridge request or invocation at all. SQS standard queues
 *     have no per-account quota on SendMessage calls (docs/SCALE.md, "SQS").
 */
export const SIGNAL_PATHS = {
  'eventbridge-each': {
    label: 'signals on EventBridge, one per PutEvents request',
    putEventsRequestsPerJob: SIGNALS_PER_JOB,
    invocationsPerJob: SIGNALS_PER_JOB,
  },
  'eventbridge-batched': {
    label: `signals on EventBridge, ${SIGNALS_PER_PUT_EVENTS} per PutEvents request`,
    putEventsRequestsPerJob: SIGNALS_PER_JOB / SIGNALS_PER_PUT_EVENTS,
    invocationsPerJob: SIGNALS_PER_JOB,
  },
  direct: {
    label: 'signals sent straight to HealthSignalsQueue (SendMessageBatch)',
    putEventsRequestsPerJob: 0,
    invocationsPerJob: 0,
  },
} as const;
export type SignalPath = keyof typeof SIGNAL_PATHS;
export const SIGNAL_PATH_NAMES = Object.keys(SIGNAL_PATHS) as SignalPath[];
/** The path docs/EVENT_SCHEMA.md tells invokers to take at rate; the bench reports it against the goal. */
export const DOCUMENTED_SIGNAL_PATH: SignalPath = 'direct';

export interface TemplateSettings {
  readonly routerReservedConcurrency: number;
  readonly routerMemoryMb: number;
  readonly projectorMemoryMb: number;
  readonly batchSize: number;
  readonly parallelizationFactor: number;
  /** Signals per HealthSignals invocation (its SQS event source's BatchSize). */
  readonly signalBatchSize: number;
}

/** A template value as a number (CloudFormation parameters' defaults may be strings), else `fallback`. */
export const num = (value: unknown, fallback: number): number =>
  typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : fallback;

/** The settings the ceilings depend on, read from template.yaml (so a change there moves the figures). */
export function templateSettings(): TemplateSettings {
  const template = readTemplate();
  const globals = template.Globals.Function;
  const props = (name: string) => template.Resources[name]?.Properties ?? {};
  const mapping = ((props('ProjectorFunction').Events as TemplateDict | undefined)?.RoutingLogStream ??
    {}) as TemplateDict;
  const mappingProps = (mapping.Properties ?? {}) as TemplateDict;
  const memory = (name: string) => num(props(name).MemorySize, num(globals.MemorySize, 128));
  return {
    routerReservedConcurrency: num(template.Parameters.RouterReservedConcurrency?.Default, 0),
    routerMemoryMb: memory('RouterFunction'),
    projectorMemoryMb: memory('ProjectorFunction'),
    batchSize: num(mappingProps.BatchSize, 100),
    parallelizationFactor: num(mappingProps.ParallelizationFactor, 1),
    signalBatchSize: num(
      (
        (
          (props('HealthSignalsFunction').Events as TemplateDict | undefined)?.SignalQueue as
            | TemplateDict
            | undefined
        )?.Properties as TemplateDict | undefined
      )?.BatchSize,
      1,
    ),
  };
}

/** Share of the jobs going to the busiest provider (fal: auto jobs it serves plus explicit ones). */
export const busiestProviderShare = (): number =>
  MIX.filter(([kind]) => kind === 'auto-fal' || kind === 'explicit-fal').reduce(
    (sum, [, share]) => sum + share,
    0,
  );

export interface EnvelopeRow {
  readonly limit: string;
  readonly arithmetic: string;
  /** Sustained inbound jobs/s before this limit throttles. */
  readonly jobsPerSecond: number;
  readonly lift: string;
  /** Off the decision path: decisions go on when it throttles (health reads fail open). */
  readonly offPath?: boolean;
  /** An account-wide quota shared with other traffic (provider signals), not a setting of the template. */
  readonly accountQuota?: boolean;
  /** The signal paths this row holds for (absent: every path); the decision path of a path takes only its rows. */
  readonly signalPaths?: readonly SignalPath[];
}

const f = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * The figures the envelope is computed from: the last segment's per-job counts (calls, WRU, records
 * per batch: the longest-running, steadiest state) with the least CPU any segment measured. CPU time
 * is the one figure here that other work on the machine inflates (shared cores and caches, GC threads
 * competing), never deflates, so its minimum over segments of identical work is the best estimate of
 * what the functions need — the usual rule for timing benchmarks.
 */
export function envelopeBasis(checkpoints: readonly ScaleCheckpoint[]): ScaleCheckpoint | undefined {
  const last = checkpoints.at(-1);
  if (!last) return undefined;
  return {
    ...last,
    cpuMs: {
      routerPerEvent: Math.min(...checkpoints.map((c) => c.cpuMs.routerPerEvent)),
      projectorPerBatch: Math.min(...checkpoints.map((c) => c.cpuMs.projectorPerBatch)),
    },
  };
}

/** Every ceiling at the template's settings, from one checkpoint's per-job figures. */
export function envelope(c: ScaleCheckpoint, t: TemplateSettings = templateSettings()): EnvelopeRow[] {
  const q = QUOTAS;
  const share = busiestProviderShare();
  const routerSlowdown = q.vcpuMb / t.routerMemoryMb;
  const projectorSlowdown = q.vcpuMb / t.projectorMemoryMb;
  const routerMs = ASSUMED_MS.putItem + c.cpuMs.routerPerEvent * routerSlowdown;
  const batchMs = ASSUMED_MS.projectorBatchWaits + c.cpuMs.projectorPerBatch * projectorSlowdown;
  const recordsPerJob = c.recordsPerJob;
  // The audit index holds keys only (template.yaml): 1 WRU per entry; the rest of a record's log
  // units are the table's.
  const indexWru = 1;
  const tableWruPerJob = Math.max(1, c.logWruPerRecord - indexWru);
  const router = (t.routerReservedConcurrency * 1000) / routerMs;
  const projectorRecords =
    (q.freshTableShards * t.parallelizationFactor * c.recordsPerBatch * 1000) / batchMs;
  const audit = (AUDIT_SHARDS * q.partitionWcu) / indexWru / (share * recordsPerJob);
  const putEventsCalls = c.total.byCommand['EventBridge.PutEvents'] ?? 0;
  const putEventsOf = (path: SignalPath) =>
    q.putEventsRequests / (1 + putEventsCalls + SIGNAL_PATHS[path].putEventsRequestsPerJob);
  const invocationsOf = (path: SignalPath) =>
    q.eventBridgeInvocations / (1 + c.total.eventBridgeEvents + SIGNAL_PATHS[path].invocationsPerJob);
  const table = q.tableWru / (tableWruPerJob * recordsPerJob);
  // Successes raise the breaker's success register (SUCCESS_REGISTER_SHARDS items, 1 WCU per raise,
  // one raise per breaker and batch of HealthSignalsQueue's event source); counted failures still
  // commit on the breaker item, one per breakerCommit.
  const tally = (SUCCESS_REGISTER_SHARDS * q.partitionWcu * t.signalBatchSize) / 1 / share;
  const maxReserve = q.accountConcurrency - q.unreservedMinimum;
  return [
    {
      limit: `router reserved concurrency ${t.routerReservedConcurrency} (${t.routerMemoryMb} MB)`,
      arithmetic: `${t.routerReservedConcurrency} ÷ (${ASSUMED_MS.putItem} ms PutItem + ${f(c.cpuMs.routerPerEvent, 2)} ms CPU × ${f(routerSlowdown, 1)} = ${f(routerMs, 1)} ms)`,
      jobsPerSecond: router,
      lift: `\`RouterReservedConcurrency\` ${maxReserve}: ${f((maxReserve * 1000) / routerMs)}/s`,
    },
    {
      limit: `projector: ${q.freshTableShards} stream shards × ParallelizationFactor ${t.parallelizationFactor} (${t.projectorMemoryMb} MB)`,
      arithmetic: `${q.freshTableShards} × ${t.parallelizationFactor} × ${f(c.recordsPerBatch)} records ÷ (${ASSUMED_MS.projectorBatchWaits} ms waits + ${f(c.cpuMs.projectorPerBatch)} ms CPU × ${f(projectorSlowdown, 1)} = ${f(batchMs)} ms) ÷ ${f(recordsPerJob, 2)} records/job`,
      jobsPerSecond: projectorRecords / recordsPerJob,
      lift: `ParallelizationFactor ${q.maxParallelizationFactor}: ${f((projectorRecords * q.maxParallelizationFactor) / t.parallelizationFactor / recordsPerJob)}/s (more memory shortens the CPU part)`,
    },
    {
      limit: `audit index: ${AUDIT_SHARDS} partitions per provider-day`,
      arithmetic: `${AUDIT_SHARDS} × ${f(q.partitionWcu)} WRU ÷ ${indexWru} WRU per index item ÷ (${f(share * 100)} % busiest provider × ${f(recordsPerJob, 2)})`,
      jobsPerSecond: audit,
      lift: `\`AUDIT_SHARDS\` ${q.liftedAuditShards}: ${f((audit * q.liftedAuditShards) / AUDIT_SHARDS)}/s`,
    },
    {
      limit: `EventBridge PutEvents (account), ${SIGNAL_PATHS['eventbridge-each'].label}`,
      arithmetic: `${f(q.putEventsRequests)} requests ÷ (1 submission + ${f(putEventsCalls, 3)} announcement requests + ${SIGNALS_PER_JOB} provider signals, one request each, per job)`,
      jobsPerSecond: putEventsOf('eventbridge-each'),
      lift: `signals ${SIGNALS_PER_PUT_EVENTS} to a request: ${f(putEventsOf('eventbridge-batched'))}/s; signals straight to HealthSignalsQueue: ${f(putEventsOf('direct'))}/s; quota increase`,
      accountQuota: true,
      signalPaths: ['eventbridge-each'],
    },
    {
      limit: `EventBridge PutEvents (account), ${SIGNAL_PATHS['eventbridge-batched'].label}`,
      arithmetic: `${f(q.putEventsRequests)} requests ÷ (1 submission + ${f(putEventsCalls, 3)} announcement requests + ${SIGNALS_PER_JOB} ÷ ${SIGNALS_PER_PUT_EVENTS} signal requests per job)`,
      jobsPerSecond: putEventsOf('eventbridge-batched'),
      lift: `signals straight to HealthSignalsQueue: ${f(putEventsOf('direct'))}/s; quota increase`,
      accountQuota: true,
      signalPaths: ['eventbridge-batched'],
    },
    {
      limit: `EventBridge PutEvents (account), ${SIGNAL_PATHS.direct.label}`,
      arithmetic: `${f(q.putEventsRequests)} requests ÷ (1 submission + ${f(putEventsCalls, 3)} announcement requests per job; the signals take none)`,
      jobsPerSecond: putEventsOf('direct'),
      lift: 'quota increase; batched submissions',
      accountQuota: true,
      signalPaths: ['direct'],
    },
    {
      limit: 'EventBridge target invocations (account), signals on EventBridge (one or 10 per request)',
      arithmetic: `${f(q.eventBridgeInvocations)} ÷ (1 router + ${f(c.total.eventBridgeEvents, 2)} announcements × 1 consumer rule + ${SIGNALS_PER_JOB} provider signals → HealthSignalsQueue per job: a rule delivers each event, however it was put)`,
      jobsPerSecond: invocationsOf('eventbridge-each'),
      lift: `signals straight to HealthSignalsQueue: ${f(invocationsOf('direct'))}/s; quota increase`,
      accountQuota: true,
      signalPaths: ['eventbridge-each', 'eventbridge-batched'],
    },
    {
      limit: `EventBridge target invocations (account), ${SIGNAL_PATHS.direct.label}`,
      arithmetic: `${f(q.eventBridgeInvocations)} ÷ (1 router + ${f(c.total.eventBridgeEvents, 2)} announcements × 1 consumer rule per job; the signals take none)`,
      jobsPerSecond: invocationsOf('direct'),
      lift: 'quota increase',
      accountQuota: true,
      signalPaths: ['direct'],
    },
    {
      limit: 'RoutingLog on-demand table quota',
      arithmetic: `${f(q.tableWru)} WRU ÷ (${f(tableWruPerJob, 2)} WRU per record × ${f(recordsPerJob, 2)})`,
      jobsPerSecond: table,
      lift: 'quota increase',
    },
    {
      limit: 'health signals: success register of one breaker (off the decision path)',
      arithmetic: `${SUCCESS_REGISTER_SHARDS} register items × ${f(q.partitionWcu)} WCU × ${t.signalBatchSize} signals a batch ÷ 1 WCU per raise ÷ ${f(share * 100)} % of jobs reporting to fal`,
      jobsPerSecond: tally,
      lift: `more SUCCESS_REGISTER_SHARDS; counted failures still commit on the breaker item (1 per ${ASSUMED_MS.breakerCommit} ms: ${f(1000 / ASSUMED_MS.breakerCommit)} failures/s per breaker while closed)`,
      offPath: true,
    },
  ];
}

/**
 * The decision path's limits when the signals take `path`, lowest first: every on-path row that holds
 * for it (`within: 'template'` leaves out the account's quotas, to give what the template allows).
 */
export function decisionPathRows(
  rows: readonly EnvelopeRow[],
  path: SignalPath = DOCUMENTED_SIGNAL_PATH,
  within: 'account' | 'template' = 'account',
): EnvelopeRow[] {
  return rows
    .filter(
      (r) =>
        !r.offPath &&
        (r.signalPaths === undefined || r.signalPaths.includes(path)) &&
        (within === 'account' || !r.accountQuota),
    )
    .sort((a, b) => a.jobsPerSecond - b.jobsPerSecond);
}

/** A row's short name: its limit up to the first colon. */
export const limitName = (row: EnvelopeRow): string => row.limit.split(':')[0] as string;

/**
 * The envelope as markdown: the table, the first two bottlenecks of the decision path with the
 * documented signal path named, and the decision path per signal path.
 */
export function renderEnvelope(c: ScaleCheckpoint, t: TemplateSettings = templateSettings()): string {
  const rows = envelope(c, t);
  const onPath = decisionPathRows(rows);
  const [first, second] = onPath;
  const table = rows
    .map((r) => `| ${r.limit} | ${r.arithmetic} | ${f(r.jobsPerSecond)} | ${r.lift} |`)
    .join('\n');
  const perPath = SIGNAL_PATH_NAMES.map((path) => {
    const [binding] = decisionPathRows(rows, path);
    return `${SIGNAL_PATHS[path].label}${path === DOCUMENTED_SIGNAL_PATH ? ' (documented)' : ''} ≈ ${f(binding?.jobsPerSecond ?? 0)} (${binding ? limitName(binding) : '—'})`;
  });
  return `| limit (template defaults) | arithmetic | jobs/s | what lifts it |
| --- | --- | ---: | --- |
${table}

**First bottleneck of the decision path, ${SIGNAL_PATHS[DOCUMENTED_SIGNAL_PATH].label} (the documented path): ${first?.limit}, at ≈ ${f(first?.jobsPerSecond ?? 0)} jobs/s** (lift: ${first?.lift}).
**Next: ${second?.limit}, at ≈ ${f(second?.jobsPerSecond ?? 0)} jobs/s** (lift: ${second?.lift}).
Order: ${onPath.map((r) => `${limitName(r)} ${f(r.jobsPerSecond)}`).join(' → ')} jobs/s.
By signal path, the decision path at the account's default quotas: ${perPath.join(' · ')} jobs/s.`;
}
