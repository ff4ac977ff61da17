/** Rules: what decides (active, canary with its share, shadow), shadow agreement over time, the latest diff. */
import { html } from 'htm/preact';
import type { Panel } from './api.ts';
import { Frame } from './common.ts';
import { clock, pretty, time } from './format.ts';

export interface RulesData {
  readonly active: string;
  readonly shadow: string | null;
  readonly canary: { readonly rulesVersion: string; readonly percent: number } | null;
  readonly history: readonly {
    version: number;
    recordedAt: string;
    action: string;
    subject: string;
    by: string;
    why: string;
  }[];
  readonly diff: {
    readonly a: string;
    readonly b: string;
    readonly changes: readonly { kind: string; what: string; before?: unknown; after?: unknown }[];
  } | null;
  readonly agreement: readonly { since: string; until: string; shadowed: number; agreementRate: number }[];
}

export function RulesPanel({ panel }: { panel: Panel<RulesData> | null }) {
  const rules = panel?.data;
  return html`<${Frame} title="Rules" id="rules" panel=${panel}>
    ${
      rules
        ? html`<dl class="facts-grid">
            <dt>active</dt><dd data-testid="rules-active">${rules.active}</dd>
            <dt>canary</dt><dd>${rules.canary ? html`${rules.canary.rulesVersion} <b>${rules.canary.percent}%</b> of jobs` : 'none'}</dd>
            <dt>shadow</dt><dd>${rules.shadow ?? 'none'}</dd>
          </dl>
          ${
            rules.agreement.length > 0
              ? html`<h3>shadow agreement</h3>
                  <div class="bars">
                    ${rules.agreement.map(
                      (slice) => html`<div class="bar" title=${`${time(slice.since)} – ${time(slice.until)}`}>
                        <div class="fill" style=${{ height: `${slice.shadowed === 0 ? 0 : slice.agreementRate}%` }}></div>
                        <span>${slice.shadowed === 0 ? '–' : `${slice.agreementRate}%`}</span>
                        <small>${clock(slice.since)}</small>
                      </div>`,
                    )}
                  </div>`
              : null
          }
          ${
            rules.diff
              ? html`<h3>${rules.diff.a} → ${rules.diff.b}</h3>
                  ${
                    rules.diff.changes.length === 0
                      ? html`<p class="muted">route identically (same content)</p>`
                      : html`<table class="diff">
                          <thead><tr><th>change</th><th>what</th><th>before</th><th>after</th></tr></thead>
                          <tbody>
                            ${rules.diff.changes.map(
                              (c) => html`<tr class=${`change-${c.kind}`}>
                                <td>${c.kind}</td><td>${c.what}</td>
                                <td><pre>${pretty(c.before)}</pre></td><td><pre>${pretty(c.after)}</pre></td>
                              </tr>`,
                            )}
                          </tbody>
                        </table>`
                  }`
              : null
          }
          <h3>history</h3>
          ${
            rules.history.length === 0
              ? html`<p class="muted">no rules were ever published: the bundled default table is active</p>`
              : html`<table><tbody>
                  ${rules.history.map(
                    (r) =>
                      html`<tr><td>#${r.version}</td><td>${time(r.recordedAt)}</td><td>${r.action}</td><td>${r.subject}</td><td>${r.by}: ${r.why}</td></tr>`,
                  )}
                </tbody></table>`
          }`
        : null
    }
  <//>`;
}
