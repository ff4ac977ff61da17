/**
 * Cost per million jobs, ours vs the naive baseline, from the counts and durations measured by the
 * last `npm run bench` (bench/results/latest.json). Writes docs/COST.md.
 * Standalone: `node bench/cost.ts` (re-prices the last results, e.g. after a price change).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchResults } from './run.ts';
import { templateSettings } from './scale-envelope.ts';
import type { SidePerJob } from './summary.ts';

const root = resolve(import.meta.dirname, '..');
export const LATEST_RESULTS = join(root, 'bench/results/latest.json');
export const COST_DOC = join(root, 'docs/COST.md');

/** AWS list prices, us-east-1, as of 2026-11-25 (DynamoDB on-demand after the Nov-2024 price cut). */
export const PRICES = {
  asOf: '2026-11-25',
  region: 'us-east-1',
  lambdaRequestsPerMillion: 0.2,
  lambdaArmGbSecond: 0.0000133334,
  dynamoDbWriteRequestUnitsPerMillion: 0.625,
  dynamoDbReadRequestUnitsPerMillion: 0.125,
  sqsStandardRequestsPerMillion: 0.4,
  eventBridgeCustomEventsPerMillion: 1.0,
  cloudWatchLogsIngestionPerGb: 0.5,
  cloudWatchCustomMetricPerMonth: 0.3,
} as const;

/**
 * Memory each function is priced at, from template.yaml (the one source of truth): the router's and
 * the projector's settings; the naive baseline is priced as a 256 MB function, the template's default.
 */
const memoryGb = () => {
  const t = templateSettings();
  return { router: t.routerMemoryMb / 1024, projector: t.projectorMemoryMb / 1024, baseline: 256 / 1024 };
};
const MILLION = 1_000_000;

export interface CostLine {
  readonly item: string;
  readonly ours: number;
  readonly baseline: number;
  readonly basis: string;
}

const billedMs = (ms: number) => Math.max(1, Math.ceil(ms));

function lines(
  ours: { router: SidePerJob; projector: SidePerJob; total: SidePerJob },
  baseline: SidePerJob,
): CostLine[] {
  const memory = memoryGb();
  const gbSeconds = (invocationsPerJob: number, ms: number, gb: number) =>
    invocationsPerJob * MILLION * (billedMs(ms) / 1000) * gb;
  const lambdaDuration = (invocationsPerJob: number, ms: number, gb: number) =>
    gbSeconds(invocationsPerJob, ms, gb) * PRICES.lambdaArmGbSecond;
  const perMillion = (unitsPerJob: number, pricePerMillion: number) => unitsPerJob * pricePerMillion;
  return [
    {
      item: 'Lambda requests',
      ours: perMillion(ours.total.lambdaInvocations, PRICES.lambdaRequestsPerMillion),
      baseline: perMillion(baseline.lambdaInvocations, PRICES.lambdaRequestsPerMillion),
      basis: `invocations/job: ours ${fmt(ours.total.lambdaInvocations, 3)} (router 1 + projector 1/batch), baseline ${fmt(baseline.lambdaInvocations, 3)}`,
    },
    {
      item: `Lambda duration (arm64; router ${memory.router * 1024} MB, projector ${memory.projector * 1024} MB)`,
      ours:
        lambdaDuration(ours.router.lambdaInvocations, ours.router.invocationMs, memory.router) +
        lambdaDuration(ours.projector.lambdaInvocations, ours.projector.invocationMs, memory.projector),
      baseline: lambdaDuration(baseline.lambdaInvocations, baseline.invocationMs, memory.baseline),
      basis: `median handler ms: router ${fmt(ours.router.invocationMs, 1)}/event, projector ${fmt(ours.projector.invocationMs, 0)}/batch; baseline ${fmt(baseline.invocationMs, 1)}/event (emulator latency)`,
    },
    {
      item: 'DynamoDB writes (WRU)',
      ours: perMillion(ours.total.wru, PRICES.dynamoDbWriteRequestUnitsPerMillion),
      baseline: perMillion(baseline.wru, PRICES.dynamoDbWriteRequestUnitsPerMillion),
      basis: `WRU/job: ours ${fmt(ours.total.wru, 2)} (log + audit GSI, retained content, Jobs with its completion mark, markers), baseline ${fmt(baseline.wru, 2)}`,
    },
    {
      item: 'DynamoDB reads (RRU)',
      ours: perMillion(ours.total.rru, PRICES.dynamoDbReadRequestUnitsPerMillion),
      baseline: perMillion(baseline.rru, PRICES.dynamoDbReadRequestUnitsPerMillion),
      basis: `RRU/job: ours ${fmt(ours.total.rru, 2)} (the Jobs BatchGet; markers and stored content only for redeliveries and copies), baseline ${fmt(baseline.rru, 2)} (credits GetItem); stream reads by the event source mapping are free`,
    },
    {
      item: 'SQS requests (standard)',
      ours: perMillion(ours.total.sqsRequests, PRICES.sqsStandardRequestsPerMillion),
      baseline: perMillion(baseline.sqsRequests, PRICES.sqsStandardRequestsPerMillion),
      basis: `billed requests/job (64 KiB chunks): ours ${fmt(ours.total.sqsRequests, 3)} (SendMessageBatch), baseline ${fmt(baseline.sqsRequests, 3)}`,
    },
    {
      item: 'EventBridge custom events',
      ours: perMillion(ours.total.eventBridgeEvents, PRICES.eventBridgeCustomEventsPerMillion),
      baseline: perMillion(baseline.eventBridgeEvents, PRICES.eventBridgeCustomEventsPerMillion),
      basis: `events/job: ours ${fmt(ours.total.eventBridgeEvents, 3)}, baseline ${fmt(baseline.eventBridgeEvents, 3)} (billed per entry: batching saves calls, not events)`,
    },
    {
      item: 'CloudWatch Logs ingestion (logs + EMF)',
      ours: ((ours.total.logBytes * MILLION) / 1024 ** 3) * PRICES.cloudWatchLogsIngestionPerGb,
      baseline: ((baseline.logBytes * MILLION) / 1024 ** 3) * PRICES.cloudWatchLogsIngestionPerGb,
      basis: `bytes/job: ours ${fmt(ours.total.logBytes, 0)}, baseline ${fmt(baseline.logBytes, 0)} (the baseline logs one line and no metrics)`,
    },
  ];
}

const fmt = (value: number, digits: number) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const usd = (value: number) => `$${value.toFixed(value < 1 ? 3 : 2)}`;

/**
 * Our total per million jobs from per-job figures measured elsewhere (the scale run's checkpoints):
 * the same lines and prices as COST.md. `lines` prices a baseline too; here there is none to price.
 */
export function oursPerMillion(ours: {
  router: SidePerJob;
  projector: SidePerJob;
  total: SidePerJob;
}): number {
  return lines(ours, ours.total).reduce((total, line) => total + line.ours, 0);
}

export function costLines(results: BenchResults): CostLine[] {
  const s = results.summary.pipeline;
  return lines({ router: s.router, projector: s.projector, total: s.ours }, s.baseline);
}

/** The user content protection share (docs/DATA_PROTECTION.md): its table's calls and units, priced. */
export function contentProtectionCost(results: BenchResults) {
  const s = results.summary.pipeline;
  const none = { calls: 0, wru: 0, rru: 0 };
  const of = (side: { tables?: Record<string, { calls: number; wru: number; rru: number }> }) =>
    side.tables?.RoutingContent ?? none;
  const total = of(s.ours);
  return {
    routerCalls: of(s.router).calls,
    projectorCalls: of(s.projector).calls,
    ...total,
    perMillion:
      total.wru * PRICES.dynamoDbWriteRequestUnitsPerMillion +
      total.rru * PRICES.dynamoDbReadRequestUnitsPerMillion,
  };
}

/** When the pipeline figures (everything this page prices) were measured again alone, and under what load. */
function remeasured(results: BenchResults): string {
  const p = results.remeasured?.pipeline;
  return p
    ? `; the pipeline figures priced here were measured again alone on ${p.date} (\`node bench/run.ts --only pipeline --write\`, load average ${fmt(p.loadAverage[0], 1)} → ${fmt(p.loadAverage[1], 1)} on ${results.machine.cores} cores)`
    : '';
}

export function renderCostDoc(results: BenchResults): string {
  const rows = costLines(results);
  const total = (pick: (l: CostLine) => number) => rows.reduce((sum, l) => sum + pick(l), 0);
  const ours = total((l) => l.ours);
  const baseline = total((l) => l.baseline);
  const content = contentProtectionCost(results);
  const p = PRICES;
  return `# Cost per million jobs

Generated by \`bench/cost.ts\` from the measurements of the last \`npm run bench\`
(\`bench/results/latest.json\`, ${results.machine.date})${remeasured(results)}; re-price without re-measuring: \`node bench/cost.ts\`.
A "job" is one inbound \`video.job.submitted\` event of the benchmark mix (5 % are redeliveries).
The baseline is the naive inline router in \`bench/baseline/\` (not production code).

| item | ours | naive baseline | basis (measured) |
| --- | ---: | ---: | --- |
${rows.map((l) => `| ${l.item} | ${usd(l.ours)} | ${usd(l.baseline)} | ${l.basis} |`).join('\n')}
| **total per million jobs** | **${usd(ours)}** | **${usd(baseline)}** | ours = ${fmt(ours / baseline, 2)} × baseline |

**Reading it.** Fewer calls do not mean a lower bill here: the services this design batches (SQS
requests, Lambda time spent waiting on calls) are cheap, while the two largest lines are billed per item,
not per call. EventBridge charges per event, batched or not (identical for both). DynamoDB writes cost
${usd(rows[2]?.ours ?? 0)} vs ${usd(rows[2]?.baseline ?? 0)}: ours writes the log item plus its audit-index (GSI) entry (keys only),
the retained content item (no index: \`forget\` scans for a user's ids at erasure time), and the Jobs status — which is also the record's
completion mark (\`routingDone\`, docs/EXACTLY_ONCE.md#completion-marks), so a job's record writes no marker
item; the baseline writes the idempotency record twice and the Jobs status. Reads: the projector reads each
job's Jobs item (the status read before the write), in BatchGetItems of ≤ 100 keys, ≥ 1 RRU per key,
strongly consistent; a fresh decision reads nothing else — its content's retaining write is its erasure
check and proves no earlier delivery left a completion marker (below) — while a redelivered decision, a
replay, a revision or a re-drive also reads its marker and its stored content. The PartiQL statements
(Jobs UPDATEs and INSERTs, content INSERTs) are billed as writes: DynamoDB Local reports no capacity for
PartiQL, so the meter counts each statement at ⌈item bytes / 1 KB⌉ WRU for an INSERT, 1 for an UPDATE,
and no RRU. Logs
(${usd(rows[6]?.ours ?? 0)} vs ${usd(rows[6]?.baseline ?? 0)}): the router writes one EMF line per decision carrying the
decision's key (jobId, or eventId for an event without one) beside its dimensions (outcome,
provider, reason code) — the model, matched rule and explanation are in the decision record, one
\`routing-manager history <jobId>\` away; a redelivered submission one \`Duplicates\` EMF line with the key —
the projector one EMF line per batch;
the baseline one short line and no metrics. Without logs: ours ${usd(ours - (rows[6]?.ours ?? 0))}, baseline
${usd(baseline - (rows[6]?.baseline ?? 0))}.

**Levers taken (issue 14).** Jobs statuses in batches: one BatchGetItem per 100 jobs, then PartiQL
BatchExecuteStatement with ≤ 25 conditional statements per call instead of one UpdateItem per record
(projector 1.22 → 0.28 calls/job; total 2.23 → 1.29). The completion marker folded into the Jobs status
write (−0.95 WRU/job: markers are written only for partial progress, superseded statuses and records
without a job; +0.95 RRU/job for the Jobs read, at a fifth of the price). One router log line per decision
instead of two (915 → 533 bytes/job). The audit index projects keys only: an entry is ≈ 150 bytes, 1 WRU,
where the copy of a log item over 1 KB cost 2 (RoutingLog 3.39 → 2.64 WRU/job; the reader fetches the
listed items with BatchGetItem, at operator time); existing stacks deploy twice (docs/DEPLOY.md).

**Log items ≤ 1 KB (issue 20).** The log stores each decision in a compact form that leaves out what
the rest of the item already says (src/log/stored-records.ts: the candidate trail as tuples, details
that only repeat a job fact rendered on read, jobId/outcome derived, the payload hash as bytes); older
items are read as they are. A routed default-table decision went from ≈ 1,040–1,080 to ≈ 800–840 bytes,
1 WRU on the table instead of 2. \`node bench/run.ts --only pipeline\`, before and after on one machine
(2026-12-06): RoutingLog 2.64 → 1.90 WRU/job, all tables 5.59 → 4.80 WRU/job (−$0.49 per million).

**No index on the content table (issue 20).** \`forget --user\` used to find a user's retained content
through a \`byUser\` index: one more write unit for every job routed (the index entry), to serve a command
run a few times a day. It now scans the content table at erasure time — strongly consistent, parallel
segments, ids only, the operator policy limited to the attributes \`id\` and \`userId\` — so an erasure
run costs read units in proportion to the retained content (≈ $0.33 per run per million jobs a day at
30-day retention, docs/DATA_PROTECTION.md) instead of $0.59 per million jobs routed. \`node bench/run.ts
--only pipeline\`, before and after on one machine (2026-12-06, load average 5–11 on 2 cores):
RoutingContent 1.90 → 0.95 WRU/job, all tables 4.80 → 3.85 WRU/job (−$0.59 per million).

**A shorter decision line (issue 20).** The router's per-job EMF line carried the model, the matched
rule and the eventId of a job besides its key: all three are in the decision record. It now carries the
key (jobId, or eventId without one), the rules version and the dimensions (outcome, provider, reason):
a routed default-table line 490 → 387 bytes (Powertools' logger adds nothing to it: the decision is an
EMF document, and the logger's own lines — with its standard keys function_arn, memory size,
sampling_rate, cold_start — are written only for duplicates, failures and warnings). \`node bench/run.ts
--only pipeline --write\`, before and after on one machine (2026-12-06, load average 12.5 → 7.3, then 6.3
→ 5.5 on 2 cores): router 488 → 415 log bytes/job, ours 503 → 430 (−$0.03 per million); the ratio
without the Lambda duration line 1.03 → 1.02.

**One read per fresh decision (issue 20).** The projector read three items per routed job, all
strongly consistent: its Jobs item, its completion marker and its content item (the erasure check).
For a decision's first delivery — nearly every one — the last two always found nothing. The content is
now retained with a PartiQL \`INSERT\` that never overwrites: refused where the job has an item (forget's
erasure marker, or content an earlier delivery retained), it is the erasure check, and only a refused
id is read. Every delivery retains before any effect, so an \`INSERT\` that is not refused also proves
no earlier delivery acted on the record: it has no completion marker, and none is read. A redelivery,
a replay, a revision or a re-drive reads as before (docs/EXACTLY_ONCE.md, docs/DATA_PROTECTION.md).
The router's decision line also dropped the rules version (in the record, \`decisions --json\`), and a
redelivered submission writes its \`Duplicates\` EMF line with the job's key instead of a Powertools
INFO line beside it. \`node bench/run.ts --only pipeline --write\`, before (2026-12-06, load average
6.3 → 5.5) and after (2026-12-07, load average 10.3 → 13.4, on 2 cores): RRU/job per table — Jobs
0.95 → 0.95, RoutingEffects 0.95 → 0, RoutingContent 0.80 → 0.001, ProviderHealth 0.016 → 0.016;
all 2.71 → 0.97 (−$0.22 per million); WRU/job unchanged per table (RoutingLog 1.90, RoutingContent
0.95, Jobs 0.95, RoutingEffects 0: 3.85); log bytes/job router 415 → 340, projector 15 → 15, ours
430 → 355 (−$0.03). Ours $4.43 → $4.22 against the baseline's $4.80 → $4.89 (0.92 → 0.86); without
the Lambda duration line $4.14 → $3.88 against $4.04 (1.02 → 0.96).

**What is left above the baseline, and why** (each from measured units): log bytes (the decision's
EMF line, ≈ +$0.08) and a little of reads (0.97 RRU/job against 0.89: the Jobs read before the
status write, ≈ +$0.01), offset by SQS batching (≈ −$0.28) and by less Lambda time. Writes are at
par: 3.85 WRU/job against the baseline's 3.79 (its idempotency record written twice). 0.75 × would
need ≈ $1 more, i.e. a retained copy gone — the audit index (−1 WRU, the
\`decisions\`/\`replay\`/\`redrive\` window query) or the retained content (−1 WRU, replay after the 48 h
transit key and erase-by-user) — which are features, not overhead. The rest is what both designs pay
alike (EventBridge $0.95 per event, Lambda requests $0.20).

**Lambda duration is the one line that is not exact.** It is emulator latency: the baseline makes five
calls in a row per event, ours one per event plus a share of a batch, so when the machine is loaded the
baseline's line grows faster than ours and the ratio looks better than it would on AWS. The table's
ratio is what this run measured; the ratio without the Lambda duration line (calls and units only) was
${fmt((ours - (rows[1]?.ours ?? 0)) / (baseline - (rows[1]?.baseline ?? 0)), 2)} in this run. Judge the design by both.

**User content protection** ([DATA_PROTECTION.md](DATA_PROTECTION.md)), included in the DynamoDB lines
above: the \`RoutingContent\` table costs ${fmt(content.calls, 3)} calls/job (router ${fmt(content.routerCalls, 4)}: a wrapped
transit-key PutItem and a hash-seed PutItem per container and hour; projector ${fmt(content.projectorCalls, 3)}: content
INSERTs in a BatchExecuteStatement per ≤ 25 records — refused where the job has an item, the erasure check —
one BatchGetItem per batch for the wrapped keys it has not cached and the items of copies — replays,
revisions, re-drives — and one more only for the items of refused INSERTs, i.e. redeliveries),
${fmt(content.wru, 2)} WRU/job (the retained content item; no index entry) and ${fmt(content.rru, 3)} RRU/job:
${usd(content.perMillion)} per million jobs. KMS is called per container and hour, never per job (router: one
\`GenerateDataKey\` and one \`GenerateMac\`; projector: one \`Decrypt\` per transit key it meets): with 20 busy
router containers all month ≈ 30,000 requests, $0.09, plus $1 per key-month for the stack's two keys —
fixed, not per job. One \`GenerateDataKey\` per job would add $3.00 per million.

## Prices used (AWS list prices, ${p.region}, as of ${p.asOf})

| service | price |
| --- | --- |
| Lambda requests | $${p.lambdaRequestsPerMillion} per million |
| Lambda duration, arm64 | $${p.lambdaArmGbSecond} per GB-second (first tier); each function at its template.yaml memory (256 MB; the projector 512 MB) |
| DynamoDB on-demand writes | $${p.dynamoDbWriteRequestUnitsPerMillion} per million write request units (after the Nov-2024 price cut) |
| DynamoDB on-demand reads | $${p.dynamoDbReadRequestUnitsPerMillion} per million read request units (after the Nov-2024 price cut) |
| SQS standard | $${p.sqsStandardRequestsPerMillion} per million requests (each 64 KiB chunk of a request is one request) |
| EventBridge custom events | $${p.eventBridgeCustomEventsPerMillion} per million events (each 64 KiB chunk of an entry is one event) |
| CloudWatch Logs ingestion | $${p.cloudWatchLogsIngestionPerGb} per GB (standard class) |
| CloudWatch custom metrics | $${p.cloudWatchCustomMetricPerMonth} per metric per month (first 10,000) |

Free tiers are ignored (they are per account, not per job).

## What is and is not in the table

- **Lambda duration** is the median handler time measured in this run, against the local emulators,
  rounded up to the next millisecond per invocation, at each function's memory in template.yaml (the
  naive baseline at 256 MB). Emulator latency is not AWS latency
  (DynamoDB Local is a Java process on a shared 2-core machine; moto is Python), so treat this line
  as an order of magnitude; the call counts behind every other line are exact.
- **DynamoDB** units are what DynamoDB Local reported with \`ReturnConsumedCapacity: TOTAL\` (added by
  the benchmark's meter; production code does not request it), table plus the audit GSI. A failed
  conditional write (a redelivered event) reports nothing but is billed: it is estimated as
  ⌈existing item size / 1 KB⌉ WRU. Reads are counted as at least 1 RRU per strongly consistent key read,
  found or not (DynamoDB Local reports 0 for a miss).
- **DynamoDB Streams** reads by the Lambda event source mapping are free; the projector's stream reads
  cost nothing. Storage, PITR and backups are per GB-month, not per job, and are not included.
- **CloudWatch metrics via EMF**: the router and projector publish metrics as Embedded Metric Format log
  lines, so there is no PutMetricData call per job; what a job costs is the log bytes (included above).
  Each distinct metric (name + dimensions) costs $${p.cloudWatchCustomMetricPerMonth} per month regardless of
  volume — about 20 metrics here (decisions by outcome/provider, rejections by reason, effects done) ≈ $6 a
  month, a fixed cost, not per job. The heartbeat is one PutMetricData every 5 minutes (8,640 a month,
  $0.01 per 1,000 requests ≈ $0.09 a month) plus its two metrics ($0.60 a month): fixed, not per job.
- Not per job, not included: SQS/DynamoDB data transfer inside the region (free); KMS (per container-hour
  and per key-month, above).
`;
}

if (import.meta.main) {
  const results = JSON.parse(readFileSync(LATEST_RESULTS, 'utf8')) as BenchResults;
  writeFileSync(COST_DOC, renderCostDoc(results));
  process.stdout.write(`wrote ${COST_DOC}\n`);
}
