/** The provider strip: each breaker's state and version, the countdown to half-open, success rate, panic. */
import { html } from 'htm/preact';
import { countdown, time } from './format.ts';
import type { CapacityLine, Overview } from './types.ts';

/** The columns every `capacity --json` line has; any other (held jobs, ETAs…) is shown as it comes. */
const KNOWN = new Set([
  'provider',
  'limit',
  'inFlight',
  'expired',
  'free',
  'shards',
  'jobTimeoutSec',
  'rulesVersion',
  'held',
]);

const shownValue = (value: unknown): string =>
  value === null || value === undefined
    ? '—'
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

/** One provider's slot ledger in words: what `routing-manager capacity` prints for it. */
export function capacityText(line: CapacityLine | null, error: { readonly message: string } | null): string {
  if (error) return `capacity: unavailable (${error.message})`;
  if (!line) return 'capacity: not in the rules in force';
  const parts =
    line.limit === null
      ? ['capacity: unlimited (no concurrency set)']
      : [
          `capacity: ${shownValue(line.inFlight)} of ${line.limit} in flight, ${shownValue(line.free)} free`,
          ...(line.expired ? [`${line.expired} expired (unswept)`] : []),
        ];
  if (line.held !== undefined) parts.push(`held: ${shownValue(line.held)}`);
  for (const [column, value] of Object.entries(line))
    if (!KNOWN.has(column)) parts.push(`${column}: ${shownValue(value)}`);
  return parts.join(' · ');
}

export function ProviderStrip({
  overview,
  clockOffsetMs,
  tick,
}: {
  overview: Overview;
  clockOffsetMs: number;
  tick: number;
}) {
  const now = tick + clockOffsetMs;
  return html`<div class="strip">
    ${overview.providers.map(
      (p) => html`<div class="provider" data-testid=${`provider-${p.provider}`}>
        <h3>${p.provider}</h3>
        ${p.breakers.map((b) => {
          const openFor = b.openUntil ? Date.parse(b.openUntil) - now : 0;
          return html`<div class=${`breaker status-${b.status}`} data-testid=${`breaker-${b.breaker}`} data-status=${b.status}>
            <div class="breaker-head">
              <span class="name">${b.breaker}</span>
              <span class="badge" data-testid="breaker-status">${b.status.replace('_', '-')}</span>
              <span class="version" title="transition version (history health#${b.breaker})">v${b.version}</span>
            </div>
            ${b.mode !== 'auto' ? html`<div class="mode">mode ${b.mode.replace('_', ' ')}</div>` : null}
            ${
              b.status === 'open' && b.openUntil
                ? html`<div class="countdown" data-testid="countdown">half-open in ${countdown(openFor)}</div>`
                : null
            }
            <div class="why">${b.reason === 'initial' ? 'no transition recorded' : `${b.reason}: ${b.detail}`}</div>
            <div class="since">since ${time(b.since)}</div>
            <div class="rate" data-testid="success-rate">
              success (5 min): ${b.window.successRate === null ? 'no attempts' : `${b.window.successRate}% of ${b.window.attempts}`}
            </div>
          </div>`;
        })}
        <div class="facts">
          <span>routed in window: ${p.routed}</span>
          <span class=${p.panicDecisions > 0 ? 'panic on' : 'panic'} data-testid="panic">
            ${p.panicDecisions > 0 ? `PANIC: ${p.panicDecisions} decision(s) with every candidate unhealthy` : 'no panic'}
          </span>
          <span class="capacity" data-testid="capacity" title=${overview.capacityError?.command ?? 'routing-manager capacity --json'}>
            ${capacityText(p.capacity, overview.capacityError)}
          </span>
        </div>
      </div>`,
    )}
  </div>`;
}
