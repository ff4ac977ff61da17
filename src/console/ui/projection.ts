/** Projection health: what `redrive --dry-run` finds in the window — records whose effects never completed. */
import { html } from 'htm/preact';
import type { Panel } from './api.ts';
import { Frame } from './common.ts';

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

export function ProjectionPanel({ panel }: { panel: Panel<RedriveSummary> | null }) {
  const s = panel?.data;
  return html`<${Frame} title="Projection health" id="projection" panel=${panel}>
    ${
      s
        ? html`<dl class="facts-grid">
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
