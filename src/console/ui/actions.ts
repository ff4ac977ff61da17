/**
 * Actions (only with `--allow-actions`): force a breaker or give it back to the breaker; replay or
 * re-drive a window — always previewed first (dry run), then run after the incident key is typed.
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, type Panel, post } from './api.ts';
import { Frame } from './common.ts';
import { pretty } from './format.ts';
import type { Config } from './types.ts';

const messageOf = (error: unknown): string =>
  error instanceof ApiError ? `${error.reason}: ${error.message}` : String(error);

const field = (label: string, value: string, set: (v: string) => void, testid: string, placeholder = '') =>
  html`<label>${label}<input data-testid=${testid} value=${value} placeholder=${placeholder}
    onInput=${(e: Event) => set((e.target as HTMLInputElement).value)} /></label>`;

function BreakerForm({ providers }: { providers: readonly string[] }) {
  const [picked, setProvider] = useState('');
  // The providers arrive with the first overview: until one is picked, the first is.
  const provider = picked || (providers[0] ?? '');
  const [mode, setMode] = useState<'open' | 'close' | 'auto'>('open');
  const [reason, setReason] = useState('');
  const [confirm, setConfirm] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const submit = async () => {
    try {
      const answer = await post<Panel<string>>('/api/actions/breaker', { mode, provider, reason, confirm });
      setResult(answer.error ? answer.error.message : String(answer.data));
    } catch (error) {
      setResult(messageOf(error));
    }
  };
  return html`<form class="action" onSubmit=${(e: Event) => {
    e.preventDefault();
    void submit();
  }}>
    <h3>breaker</h3>
    <label>provider<select data-testid="breaker-provider" value=${provider} onChange=${(e: Event) => setProvider((e.target as HTMLSelectElement).value)}>
      ${providers.map((p) => html`<option value=${p}>${p}</option>`)}
    </select></label>
    <label>mode<select data-testid="breaker-mode" value=${mode} onChange=${(e: Event) => setMode((e.target as HTMLSelectElement).value as 'open')}>
      <option value="open">force open</option><option value="close">force closed</option><option value="auto">auto (the breaker decides)</option>
    </select></label>
    ${field('reason (recorded)', reason, setReason, 'breaker-reason')}
    ${field(`type ${provider} to confirm`, confirm, setConfirm, 'breaker-confirm')}
    <button type="submit" data-testid="breaker-submit" disabled=${confirm !== provider || !reason.trim()}>Change breaker</button>
    ${result ? html`<p class="result" data-testid="breaker-result">${result}</p>` : null}
  </form>`;
}

function WindowForm({ providers }: { providers: readonly string[] }) {
  const [kind, setKind] = useState<'replay' | 'redrive'>('replay');
  const [incident, setIncident] = useState('');
  const [picked, setChosen] = useState('');
  const chosen = picked || (providers[0] ?? '');
  const [window, setWindow] = useState('1h');
  const [reason, setReason] = useState('');
  const [confirm, setConfirm] = useState('');
  const [preview, setPreview] = useState<Panel<unknown> | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const send = async (dryRun: boolean) => {
    setResult(null);
    try {
      const answer = await post<Panel<unknown>>(`/api/actions/${kind}`, {
        incident,
        providers: chosen ? [chosen] : [],
        window,
        reason,
        dryRun,
        ...(dryRun ? {} : { confirm }),
      });
      if (dryRun) setPreview(answer);
      else setResult(answer.error ? answer.error.message : pretty(answer.data));
    } catch (error) {
      setResult(messageOf(error));
    }
  };
  const previewed = preview?.data as
    | { wouldAppend?: number; matched?: number; jobs?: unknown[]; targets?: unknown[] }
    | null
    | undefined;
  return html`<form class="action" onSubmit=${(e: Event) => {
    e.preventDefault();
    void send(true);
  }}>
    <h3>replay / re-drive</h3>
    <label>what<select data-testid="window-kind" value=${kind} onChange=${(e: Event) => {
      setKind((e.target as HTMLSelectElement).value as 'replay');
      setPreview(null);
    }}>
      <option value="replay">replay (re-send routed decisions after an outage)</option>
      <option value="redrive">re-drive (finish abandoned projections, original ids)</option>
    </select></label>
    ${field('incident key', incident, setIncident, 'window-incident', 'INC-2291')}
    <label>provider<select data-testid="window-provider" value=${chosen} onChange=${(e: Event) => setChosen((e.target as HTMLSelectElement).value)}>
      ${providers.map((p) => html`<option value=${p}>${p}</option>`)}
    </select></label>
    <label>window<select data-testid="window-span" value=${window} onChange=${(e: Event) => setWindow((e.target as HTMLSelectElement).value)}>
      ${['15m', '1h', '6h', '24h'].map((w) => html`<option value=${w}>last ${w}</option>`)}
    </select></label>
    ${field('reason (recorded)', reason, setReason, 'window-reason')}
    <button type="submit" data-testid="window-preview">Preview (dry run)</button>
    ${
      preview
        ? html`<div class="preview" data-testid="window-preview-result">
            ${preview.error ? html`<p class="error">${preview.error.message}</p>` : html`<p>dry run: <b>${previewed?.wouldAppend ?? 0}</b> record(s) would be appended, ${previewed?.matched ?? 0} decision(s) matched</p><pre>${pretty(preview.data)}</pre>`}
            <pre class="command">${preview.commands.join('\n')}</pre>
            ${field(`type ${incident || 'the incident key'} to run it for real`, confirm, setConfirm, 'window-confirm')}
            <button type="button" data-testid="window-run" disabled=${!incident || confirm !== incident || !reason.trim()} onClick=${() => void send(false)}>Run ${kind}</button>
          </div>`
        : null
    }
    ${result ? html`<pre class="result" data-testid="window-result">${result}</pre>` : null}
  </form>`;
}

export function ActionsPanel({ config, providers }: { config: Config; providers: readonly string[] }) {
  return html`<${Frame} title="Actions" id="actions">
    <p class=${config.readOnly ? 'muted' : 'warn'} data-testid="actions-mode">
      ${config.readOnly ? 'read-only: previews only; start the console with --allow-actions to change anything' : `actions enabled, recorded as ${config.by}`}
    </p>
    <div class="actions">
      ${config.readOnly ? null : html`<${BreakerForm} providers=${providers} />`}
      <${WindowForm} providers=${providers} />
    </div>
  <//>`;
}
