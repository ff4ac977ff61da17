/** Job search, the recent jobs of the window, and one job's vertical timeline (`history <jobId>`). */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, get, type Panel } from './api.ts';
import { Frame } from './common.ts';
import { pretty, time } from './format.ts';
import type { DecisionLine } from './types.ts';

interface Candidate {
  readonly rule: string;
  readonly provider: string | null;
  readonly model: string | null;
  readonly verdict: string;
  readonly reason?: string;
  readonly detail?: string;
  readonly breaker?: string;
  readonly healthVersion?: number;
}

type LogRecord = Record<string, unknown> & {
  readonly type: string;
  readonly version: number;
  readonly recordedAt: string;
  readonly dispatchId?: string;
};

interface History {
  readonly jobId: string;
  readonly stream: string;
  readonly job: unknown;
  readonly records: readonly LogRecord[];
  readonly projection: Record<string, unknown> | null;
  readonly content: { readonly status: string; readonly job?: unknown; readonly expiresAt?: string };
}

interface Step {
  readonly kind: string;
  readonly at: string | null;
  readonly title: string;
  readonly lines: readonly string[];
  readonly candidates?: readonly Candidate[];
}

const decisionTitle = (d: Record<string, unknown>): string =>
  d.type === 'RoutingDecided'
    ? `routed → ${d.provider}/${d.model} (${d.queue})`
    : `rejected: ${String(d.reason)}`;

function candidatesOf(record: Record<string, unknown>): Candidate[] {
  const explanation = record.explanation as { candidates?: Candidate[] } | null | undefined;
  return explanation?.candidates ?? [];
}

/**
 * Whether the projector completed a record's effects: the Jobs item's `routingDone` lists the
 * versions whose dispatch, announcement and status are all done (src/projections/effect-completion.ts).
 */
function completion(history: History, version: number, what: string): string {
  const done = history.projection?.routingDone;
  return Array.isArray(done) && done.includes(version)
    ? `${what}: complete (Jobs routingDone holds v${version})`
    : `${what}: not sealed by the Jobs item (a later status may have moved it on; Projection health shows what is owed)`;
}

/** The job's story as steps, in the order the log recorded them. */
export function stepsOf(history: History): Step[] {
  const steps: Step[] = [];
  for (const r of history.records) {
    if (r.type === 'RoutingDecided' || r.type === 'RoutingRejected') {
      if (r.submittedAt)
        steps.push({
          kind: 'submitted',
          at: String(r.submittedAt),
          title: 'submitted',
          lines: [`event ${String(r.eventId ?? '-')}`],
        });
      const explanation = (r.explanation ?? {}) as { matchedRule?: string; rulesVersion?: string };
      steps.push({
        kind: 'decided',
        at: r.recordedAt,
        title: `v${r.version} decided: ${decisionTitle(r)}`,
        lines: [
          `rule ${explanation.matchedRule ?? '-'} of rules ${explanation.rulesVersion ?? '-'}`,
          ...(r.estimatedCost
            ? [
                `estimated cost ${pretty((r.estimatedCost as { amount?: unknown }).amount ?? r.estimatedCost)} credits`,
              ]
            : []),
        ],
        candidates: candidatesOf(r),
      });
      if (r.dispatchId)
        steps.push({
          kind: 'dispatched',
          at: null,
          title: `dispatched to ${String(r.queue)}, announced as video.job.routed`,
          lines: [`dispatch ${r.dispatchId}`, completion(history, r.version, 'message and announcement')],
        });
      else
        steps.push({
          kind: 'announced',
          at: null,
          title: 'announced as video.job.rejected',
          lines: [completion(history, r.version, 'announcement')],
        });
      continue;
    }
    if (r.type === 'RoutingRevised') {
      const decision = r.decision as Record<string, unknown>;
      steps.push({
        kind: 'revised',
        at: r.recordedAt,
        title: `v${r.version} revision ${String(r.revision)}: ${decisionTitle(decision)}`,
        lines: [
          `dispatch ${String(r.failedDispatchId)} failed at ${String(r.failedProvider)} (signal ${String(r.causedBy)})`,
          ...(r.dispatchId ? [`new dispatch ${r.dispatchId}`] : []),
          completion(history, r.version, 'its effects'),
        ],
        candidates: candidatesOf(decision),
      });
      continue;
    }
    if (r.type === 'ProjectionReplayRequested' || r.type === 'ProjectionRedriveRequested') {
      const replay = r.type === 'ProjectionReplayRequested';
      steps.push({
        kind: replay ? 'replay' : 'redrive',
        at: r.recordedAt,
        title: `v${r.version} ${replay ? `replay of v${String(r.replayOf)}` : `re-drive of v${String(r.redriveOf)}`} (incident ${String(r.incident ?? '-')})`,
        lines: [
          `by ${String(r.requestedBy)}: ${String(r.why)}`,
          ...(r.dispatchId ? [`dispatch ${r.dispatchId}`] : []),
          ...(r.contentWithheld ? [`sent nothing: ${String(r.contentWithheld).replace('_', ' ')}`] : []),
          // A re-drive completes its target's effects, under the target's version.
          replay
            ? completion(history, r.version, 'its effects')
            : completion(history, Number(r.redriveOf), `v${String(r.redriveOf)}'s effects`),
        ],
      });
      continue;
    }
    if (r.type === 'ContentErased') {
      steps.push({
        kind: 'erased',
        at: r.recordedAt,
        title: `v${r.version} user content erased`,
        lines: [`erasure ${String(r.erasureId)} by ${String(r.requestedBy)}: ${String(r.why)}`],
      });
      continue;
    }
    steps.push({ kind: 'other', at: r.recordedAt, title: `v${r.version} ${r.type}`, lines: [] });
  }
  const p = history.projection;
  steps.push({
    kind: 'status',
    at: p?.routedAt ? String(p.routedAt) : null,
    title: p ? `Jobs status: ${String(p.status ?? '-')}` : 'Jobs status: none yet',
    lines: p
      ? [
          `${p.provider ? `${String(p.provider)}/${String(p.model ?? '-')}` : ''}${p.reason ? ` reason ${String(p.reason)}` : ''}`,
          `projected version ${String(p.routingVersion ?? '-')}`,
        ].filter((line) => line.trim() !== '')
      : [],
  });
  return steps;
}

function contentLine(content: History['content']): string {
  if (content.status === 'hidden')
    return 'user content hidden (start the console with --show-content to see it)';
  if (content.status === 'erased') return 'user content erased (shredded): nothing left to show';
  if (content.status === 'expired') return 'user content expired (shredded): nothing left to show';
  return `user content ${content.status}${content.expiresAt ? ` until ${time(content.expiresAt)}` : ''}`;
}

export function Timeline({ history }: { history: History }) {
  return html`<div data-testid="timeline">
    <h3>job ${history.jobId}</h3>
    <ol class="timeline">
      ${stepsOf(history).map(
        (step) => html`<li class=${`step step-${step.kind}`} data-testid=${`step-${step.kind}`}>
          <div class="step-head"><span class="step-title">${step.title}</span><span class="when">${time(step.at)}</span></div>
          ${step.lines.map((line) => html`<div class="step-line">${line}</div>`)}
          ${
            step.candidates && step.candidates.length > 0
              ? html`<table class="candidates">
                  <thead><tr><th>rule</th><th>candidate</th><th>verdict</th><th>why</th></tr></thead>
                  <tbody>
                    ${step.candidates.map(
                      (c) => html`<tr class=${`verdict-${c.verdict}`}>
                        <td>${c.rule}</td>
                        <td>${c.provider ? `${c.provider}/${c.model ?? '-'}` : '-'}</td>
                        <td>${c.verdict}</td>
                        <td>${[c.reason, c.detail, c.breaker ? `breaker ${c.breaker} v${c.healthVersion ?? '?'}` : ''].filter(Boolean).join(' · ')}</td>
                      </tr>`,
                    )}
                  </tbody>
                </table>`
              : null
          }
        </li>`,
      )}
      <li class=${`step step-content content-${history.content.status}`} data-testid="step-content">
        <div class="step-head"><span class="step-title">${contentLine(history.content)}</span></div>
        ${history.content.job !== undefined ? html`<pre class="content">${pretty(history.content.job)}</pre>` : null}
      </li>
    </ol>
  </div>`;
}

export function JobsPanel({ recent }: { recent: readonly DecisionLine[] }) {
  const [query, setQuery] = useState('');
  const [result, setResult] = useState<Panel<History> | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const open = async (jobId: string) => {
    setQuery(jobId);
    setFailure(null);
    try {
      setResult(await get<Panel<History>>(`/api/jobs/${encodeURIComponent(jobId.trim())}`));
    } catch (error) {
      setFailure(error instanceof ApiError ? error.message : String(error));
    }
  };
  return html`<${Frame} title="Jobs" id="jobs" panel=${result}>
    <form class="search" onSubmit=${(e: Event) => {
      e.preventDefault();
      void open(query);
    }}>
      <input name="jobId" data-testid="job-search" placeholder="jobId (or job#…, event#…, health#…)" value=${query}
        onInput=${(e: Event) => setQuery((e.target as HTMLInputElement).value)} />
      <button type="submit" data-testid="job-search-submit">Show timeline</button>
    </form>
    ${failure ? html`<p class="error">${failure}</p>` : null}
    <div class="jobs">
      <div class="recent">
        <h3>recent decisions</h3>
        <ul data-testid="recent-jobs">
          ${recent.map(
            (row) => html`<li>
              <a href="#" onClick=${(e: Event) => {
                e.preventDefault();
                void open(row.jobId ?? row.stream);
              }}>${row.jobId ?? row.stream}</a>
              <span class=${`outcome ${row.outcome}`}>${row.outcome === 'routed' ? `${row.provider}/${row.model}` : row.reason}</span>
              ${row.panic ? html`<span class="panic on">panic</span>` : null}
            </li>`,
          )}
        </ul>
      </div>
      <div class="detail">${result?.data ? html`<${Timeline} history=${result.data} />` : html`<p class="muted">pick a job</p>`}</div>
    </div>
  <//>`;
}
