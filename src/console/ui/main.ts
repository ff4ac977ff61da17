/**
 * The console page: Preact components written with htm (tagged templates: no JSX build step),
 * refreshed by polling the console's API every few seconds so a drill can be watched live.
 */
import 'uplot/dist/uPlot.min.css';
import './console.css';
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ActionsPanel } from './actions.ts';
import { ApiError, get, type Panel } from './api.ts';
import { Frame } from './common.ts';
import { DecisionsChart } from './decisions-chart.ts';
import { time } from './format.ts';
import { JobsPanel } from './jobs.ts';
import { ProjectionPanel, type ProjectorStatus, type RedriveSummary } from './projection.ts';
import { ProviderStrip } from './providers.ts';
import { type RulesData, RulesPanel } from './rules.ts';
import type { Config, Overview } from './types.ts';

const WINDOWS = ['15m', '1h', '6h', '24h'] as const;

/** Polls `path` every `seconds` while mounted; keeps the last answer through a failed poll. */
function usePolled<T>(path: string | null, seconds: number): { value: T | null; failure: string | null } {
  const [value, setValue] = useState<T | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const answer = await get<T>(path);
        if (live) {
          setValue(answer);
          setFailure(null);
        }
      } catch (error) {
        if (live) setFailure(error instanceof ApiError ? error.message : String(error));
      }
      if (live) timer = setTimeout(poll, seconds * 1000);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, seconds]);
  return { value, failure };
}

function useTick(): number {
  const [tick, setTick] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setTick(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return tick;
}

function App() {
  const config = usePolled<Config>('/api/config', 3600).value;
  const [window, setWindow] = useState<(typeof WINDOWS)[number]>('15m');
  const refresh = config?.refreshSeconds ?? 3;
  const overview = usePolled<Panel<Overview>>(config ? `/api/overview?window=${window}` : null, refresh);
  const rules = usePolled<Panel<RulesData>>(config ? `/api/rules?window=${window}` : null, refresh * 5);
  const projection = usePolled<Panel<{ projector: ProjectorStatus | null; redrive: RedriveSummary | null }>>(
    config ? `/api/projection?window=${window}` : null,
    refresh * 3,
  );
  const tick = useTick();
  if (!config) return html`<p>Connecting…</p>`;
  const data = overview.value?.data ?? null;
  const clockOffsetMs = data ? Date.parse(data.now) - Date.now() : 0;
  const providers = data?.providers.map((p) => p.provider) ?? [];
  return html`<div class="page">
    <header>
      <h1>Routing Manager console</h1>
      <span class=${config.readOnly ? 'run-mode read-only' : 'run-mode acting'} data-testid="mode">${config.readOnly ? 'read-only' : `actions enabled (${config.by})`}</span>
      <label>window <select data-testid="window" value=${window} onChange=${(e: Event) => setWindow((e.target as HTMLSelectElement).value as '1h')}>
        ${WINDOWS.map((w) => html`<option value=${w}>last ${w}</option>`)}
      </select></label>
      <span class="updated" data-testid="updated">${data ? `as of ${time(data.now)}` : 'loading…'}${overview.failure ? html` <span class="error">(${overview.failure})</span>` : null}</span>
    </header>
    <${Frame} title="Providers" id="providers" panel=${overview.value}>
      ${data ? html`<${ProviderStrip} overview=${data} clockOffsetMs=${clockOffsetMs} tick=${tick} />` : null}
    <//>
    <${Frame} title="Decisions over time" id="decisions">
      ${data ? html`<${DecisionsChart} overview=${data} />` : null}
    <//>
    <${JobsPanel} recent=${data?.recent ?? []} />
    <div class="columns">
      <${RulesPanel} panel=${rules.value} />
      <${ProjectionPanel} panel=${projection.value} />
    </div>
    <${ActionsPanel} config=${config} providers=${providers} />
  </div>`;
}

const root = document.getElementById('app');
if (root) render(html`<${App} />`, root);
