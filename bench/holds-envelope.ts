/**
 * Sections 10 and 11 of `npm run bench` (issue 21): the cost estimate's error (bench/cost-error.ts)
 * and holds on DynamoDB Local (bench/holds.ts), as rows of the bench table and as the generated
 * section of docs/SCALE.md between HOLDS_MARKERS — with the AWS envelope of hold throughput per
 * provider, which is arithmetic from the per-item write limit and the measured calls per decision.
 */
import { join, resolve } from 'node:path';
import { MAX_WAITING_PER_PROVIDER } from '../src/ports/slot-ledger.ts';
import type { CostErrorResult } from './cost-error.ts';
import type { HoldsResult } from './holds.ts';
import type { Row } from './run.ts';
import { writeBetweenMarkers } from './support/doc-markers.ts';

const f = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (value: number | null) =>
  value === null ? '—' : `${value >= 0 ? '+' : ''}${f(value * 100, 1)} %`;
const status = (met: boolean) => (met ? 'met' : 'MISSED');

/** DynamoDB's per-item (per partition key) write ceiling: 1,000 WCU/s. */
const ITEM_WCU_PER_SECOND = 1_000;
/** Assumed per-call latency of the Holds function's DynamoDB calls in AWS (ms). */
export const ASSUMED_HOLD_CALL_MS = 8;
/**
 * A line shard item's size: ≈ 100 B of keys and counters, ≤ 16 holders of ≈ 60 B, and one
 * `w#<jobId>` attribute per waiting job (a 36-character jobId: ≈ 55 B).
 */
const lineItemBytes = (waiting: number) => 100 + 16 * 60 + waiting * 55;
const wcuPerWrite = (waiting: number) => Math.ceil(lineItemBytes(waiting) / 1024);

export interface HoldEnvelopeLine {
  readonly limit: string;
  readonly arithmetic: string;
  readonly perSecond: number;
}

/**
 * Held jobs decided per second per provider, in AWS: every held job writes each of its provider's
 * line shard items twice at least (join, leave), each write billed by the item's size; a `slot_freed`
 * drain decides a line's jobs one after the other. (Held jobs can never be decided faster than the
 * provider frees slots — C ÷ its run time — which is the provider's limit, not ours.)
 */
export function holdsEnvelope(run: HoldsResult): HoldEnvelopeLine[] {
  const callsPerDecision = run.perSlotFreed.calls;
  const full = MAX_WAITING_PER_PROVIDER;
  return [
    {
      limit: `line shard item writes, a full line (${full} waiting, ≈ ${f(lineItemBytes(full) / 1024, 1)} KB)`,
      arithmetic: `${f(ITEM_WCU_PER_SECOND)} WCU/s ÷ (2 writes × ${wcuPerWrite(full)} WCU)`,
      perSecond: Math.floor(ITEM_WCU_PER_SECOND / (2 * wcuPerWrite(full))),
    },
    {
      limit: 'line shard item writes, 20 waiting',
      arithmetic: `${f(ITEM_WCU_PER_SECOND)} WCU/s ÷ (2 writes × ${wcuPerWrite(20)} WCU)`,
      perSecond: Math.floor(ITEM_WCU_PER_SECOND / (2 * wcuPerWrite(20))),
    },
    {
      limit: 'one slot_freed drain (decisions one after the other)',
      arithmetic: `1,000 ms ÷ (${f(callsPerDecision, 1)} calls per message measured × ${ASSUMED_HOLD_CALL_MS} ms)`,
      perSecond: Math.floor(1000 / (callsPerDecision * ASSUMED_HOLD_CALL_MS)),
    },
  ];
}

export function costErrorRows(run: CostErrorResult | undefined): Row[] {
  if (!run) return [];
  const rows: Row[] = [
    [
      `**10. Cost estimate error** (${f(run.routed)} completions with \`costUsd\`, seeded; docs/SCALE.md)`,
      '',
      '',
      '',
      '',
    ],
  ];
  for (const m of run.models) {
    const agrees = m.windowsError === m.expectedError;
    rows.push([
      `${m.provider}/${m.model}: mean abs error · bias vs the quote's costEstimateUsd (${f(m.quoted)} quoted); what-if's per-second error`,
      `${pct(m.meanAbsError)} · ${pct(m.bias)}; ${pct(m.windowsError)}`,
      '',
      `what-if = workload's ${pct(m.expectedError)}`,
      agrees && m.quoted === m.completions ? 'reported' : 'FAILED',
    ]);
  }
  return rows;
}

export function holdsRows(run: HoldsResult | undefined): Row[] {
  if (!run) return [];
  return [
    [
      `**11. Holds** (DynamoDB Local: ${f(run.jobs)} auto jobs at once, fal and Replicate at C = ${run.concurrency} each, runs ${run.runSec} s ± 20 %; docs/SCALE.md)`,
      '',
      '',
      '',
      '',
    ],
    [
      'Routed at once · held · rejected · held then dispatched',
      `${run.routedAtOnce} · ${run.held} · ${run.rejected} · ${run.decidedAfterHold}`,
      '',
      `${2 * run.concurrency} · ${run.jobs - 2 * run.concurrency} · 0 · all held`,
      status(
        run.routedAtOnce === 2 * run.concurrency && run.rejected === 0 && run.decidedAfterHold === run.held,
      ),
    ],
    [
      'Hold time p50 · p95 · max, s (virtual: the wait completions impose)',
      `${f(run.holdP50Sec, 1)} · ${f(run.holdP95Sec, 1)} · ${f(run.holdMaxSec, 1)}`,
      '',
      '—',
      'reported',
    ],
    [
      'Over-dispatch: most in flight at once − C (fal, Replicate; from the log)',
      `${run.overDispatch} (${run.maxInFlight.fal ?? 0}, ${run.maxInFlight.replicate ?? 0})`,
      '',
      '0',
      status(run.overDispatch === 0),
    ],
    [
      'DynamoDB writes per job: routed at once → held (submission to dispatch); extra per held job',
      `${f(run.routed.writesPerJob, 2)} → ${f(run.heldPath.writesPerJob, 2)}; +${f(run.extraWritesPerHeldJob, 2)}`,
      '',
      '—',
      'reported',
    ],
    [
      '  · per recheck (every 30 s while held) · per slot_freed drain: writes (calls)',
      `${f(run.perRecheck.writes, 2)} (${f(run.perRecheck.calls, 2)}) · ${f(run.perSlotFreed.writes, 2)} (${f(run.perSlotFreed.calls, 2)})`,
      '',
      '—',
      'reported',
    ],
    [
      'Held jobs decided per wall second on DynamoDB Local (one handler, rechecks included)',
      f(run.decidedPerWallSecond, 1),
      '',
      '—',
      'reported',
    ],
    [
      'Envelope: held jobs decided/s per provider: one drain at a time · line item writes, full line',
      `${f(holdsEnvelope(run)[2]?.perSecond ?? 0)} · ${f(holdsEnvelope(run)[0]?.perSecond ?? 0)}`,
      '',
      '—',
      'reported',
    ],
  ];
}

const SCALE_DOC = join(resolve(import.meta.dirname, '..'), 'docs/SCALE.md');
export const HOLDS_MARKERS = {
  begin: '<!-- holds-run:begin -->',
  end: '<!-- holds-run:end -->',
} as const;

/** The section between HOLDS_MARKERS in docs/SCALE.md. */
export function renderHoldsRun(holds: HoldsResult | undefined, cost: CostErrorResult | undefined): string {
  const table = (rows: readonly Row[]) =>
    rows.length === 0
      ? '(not measured in the last run)'
      : `| measure | ours | goal | status |\n| --- | ---: | ---: | --- |\n${rows
          .slice(1)
          .map(([metric, ours, , goal, s]) => `| ${metric} | ${ours} | ${goal} | ${s} |`)
          .join('\n')}`;
  const billing = cost
    ? Object.entries(cost.billing)
        .map(
          ([provider, b]) =>
            `${provider} ${pct(b.markup)} markup, ${b.overheadSec} s of overhead billed, noise ±${f(b.noise * 100)} %`,
        )
        .join('; ')
    : '';
  const envelope = holds
    ? `| limit | arithmetic | held jobs/s |\n| --- | --- | ---: |\n${holdsEnvelope(holds)
        .map((l) => `| ${l.limit} | ${l.arithmetic} | ${f(l.perSecond)} |`)
        .join('\n')}`
    : '';
  return `${HOLDS_MARKERS.begin}
Generated by \`bench/cost-error.ts\`, \`bench/holds.ts\` and \`bench/holds-envelope.ts\` (\`npm run bench\`,
or \`npm run bench -- --only holds\`) — do not edit by hand.

**Cost estimate error.** ${cost ? `${f(cost.jobs)} jobs (seed ${cost.seed}: half \`auto\` under \`prefer: "cost"\`, a quarter explicit each; 3–10 s at 720p)` : ''}
routed by RouteJob and completed through HandleProviderSignal with \`runMs\` and a \`costUsd\` from a
synthetic billing per provider (${billing}), counted in the signal windows. Each completion is
compared with the \`costEstimateUsd\` of the quote recorded for its selected candidate (mean absolute
error, bias = mean signed error); the windows' per-output-second error is what \`what-if --rules\`
prints, and must equal the same figure computed from the workload. The two differ for Replicate: its
billed overhead weighs more on a short clip, which the per-completion mean counts like any other and
the per-second figure weights by length.

${table(costErrorRows(cost))}

**Holds.** ${holds ? `${f(holds.jobs)} \`auto\` jobs reach ${holds.routers} routers at once` : ''} against fal and Replicate limited to the same
concurrency, on DynamoDB Local (log, slot ledger, waiting lines); completions then free slots in
virtual time and the hold backlog is delivered as SQS would (a \`slot_freed\` at once, a \`recheck\`
after its 30 s), each message handled by the Holds function's command. Writes per job are every
DynamoDB write its routing, its hold and the messages that woke it made (refused conditional writes
included: DynamoDB bills them), divided by the jobs of each kind.

${table(holdsRows(holds))}

${holds ? `A **recheck** (every 30 s while a job is held: ${f(holds.backlogMessages.recheck)} for ${f(holds.held)} held jobs here) only reads while its providers are full — one consistent BatchGetItem of their slot shards, and each line shard read to find the job still in it — and drains a line only when a slot is free (freed by expiry, when no completion came; a completion wakes the line with its own \`slot_freed\`). Before this change (measured on the same workload, with the same hold times), every recheck tried the head job's slot take on each full provider (a refused conditional write, billed at the item's size) and joined every line shard again (the same): 5.49 writes per recheck, 57.13 per held job against ${f(holds.heldPath.writesPerJob, 2)} now.` : ''}

**Hold throughput, AWS envelope** (per provider; ${ASSUMED_HOLD_CALL_MS} ms assumed per DynamoDB call):

${envelope}

A completion frees one slot and sends one \`slot_freed\`, so drains of different messages run in
parallel Holds invocations (SQS batches of 10): a provider's held jobs are decided at about the
one-drain rate times the invocations draining at once, less the work they repeat at the line's head
(a job two drains decide is recorded once: the append is conditional). The line shard item's writes
are the hard bound. Held jobs can never be decided faster than their provider's slots free
(C ÷ run time: 1,000 slots of 60-s jobs free 17 a second) — more than one drain at a time decides
on this estimate, so such a provider relies on the parallel drains; the line's writes leave room.
${HOLDS_MARKERS.end}`;
}

export function writeHoldsDoc(holds: HoldsResult | undefined, cost: CostErrorResult | undefined): void {
  writeBetweenMarkers(SCALE_DOC, HOLDS_MARKERS, renderHoldsRun(holds, cost));
}
