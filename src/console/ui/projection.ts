/** Projection health: what `redrive --dry-run` finds in the window — records whose effects never completed. */
import { html } from 'htm/preact';
import type { Panel } from './api.ts';
import { Frame } from './common.ts';
import { time } from './format.ts';

interface Target {
  readonly jobId: string;
  readonly targetVersion: number | null;
  readonly action: string;
  readonly missing: readonly string[];
  readonly dispatchId: string | null;
}

export interface RedriveSummary {
  readonly since: string;
  readonly until: string;
  readonly matched: number;
  readonly complete: number;
  readonly wouldAppend: number;
  readonly alreadyRequested: number;
  readonly tooOld: number;
  readonly targets: readonly Target[];
}

export interface ProjectorStatus {
  readonly lag: { readonly latestMs: number; readonly latestAt: string; readonly maximumMs: number } | null;
  readonly abandoned: {
    readonly queue: string;
    readonly visible: number | null;
    readonly inFlight: number | null;
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function Projector({ status }: { status: ProjectorStatus }) {
  const { lag, abandoned } = status;
  return html`<dl class="facts-grid">
    <dt>lag (IteratorAge)</dt>
    <dd data-testid="lag" class=${lag && lag.latestMs > 60_000 ? 'warn' : ''}>
      ${lag ? `${seconds(lag.latestMs)} at ${time(lag.latestAt)} (max ${seconds(lag.maximumMs)})` : 'no data in the window (no batch processed, or not on AWS)'}
    </dd>
    <dt>abandoned batches</dt>
    <dd data-testid="abandoned" class=${abandoned.visible ? 'warn' : ''}>
      ${abandoned.visible === null ? `queue ${abandoned.queue} not found` : `${abandoned.visible} waiting in ${abandoned.queue}`}
    </dd>
  </dl>`;
}

export function ProjectionPanel({
  panel,
}: {
  panel: Panel<{ projector: ProjectorStatus | null; redrive: RedriveSummary | null }> | null;
}) {
  const s = panel?.data?.redrive;
  const projector = panel?.data?.projector;
  return html`<${Frame} title="Projection health" id="projection" panel=${panel}>
    ${projector ? html`<${Projector} status=${projector} />` : null}
    ${
      s
        ? html`<h3>what redrive --dry-run finds in the window</h3>
          <dl class="facts-grid">
            <dt>jobs examined</dt><dd>${s.matched}</dd>
            <dt>complete</dt><dd>${s.complete}</dd>
            <dt>owing effects</dt><dd data-testid="owing" class=${s.wouldAppend > 0 ? 'warn' : ''}>${s.wouldAppend}</dd>
            <dt>re-drive already requested</dt><dd>${s.alreadyRequested}</dd>
            <dt>too old to judge</dt><dd>${s.tooOld}</dd>
          </dl>
          ${
            s.targets.length > 0
              ? html`<table><thead><tr><th>jobId</th><th>record</th><th>missing</th><th>action</th></tr></thead><tbody>
                  ${s.targets.map(
                    (t) =>
                      html`<tr><td>${t.jobId}</td><td>${t.targetVersion === null ? '-' : `v${t.targetVersion}`}</td><td>${t.missing.join('+') || '-'}</td><td>${t.action}</td></tr>`,
                  )}
                </tbody></table>`
              : html`<p class="muted">every projection in the window is complete</p>`
          }`
        : null
    }
  <//>`;
}
