/**
 * Decisions over time: routed per provider and rejected per reason per bucket (uPlot, stepped
 * lines), with every breaker transition of the window drawn as a vertical line and listed below.
 */
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { clock } from './format.ts';
import type { Overview, Transition } from './types.ts';

const COLOURS = ['#2563eb', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#dc2626', '#db2777', '#4b5563'];
const TRANSITION_COLOURS: Record<string, string> = {
  open: '#dc2626',
  half_open: '#d97706',
  closed: '#16a34a',
};

/** Draws the transitions onto the plot (a uPlot `draw` hook: its canvas, its scales). */
function transitionMarks(transitions: readonly Transition[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        for (const mark of transitions) {
          const x = Math.round(u.valToPos(Date.parse(mark.at) / 1000, 'x', true));
          ctx.strokeStyle = TRANSITION_COLOURS[mark.to] ?? '#111827';
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}

export function DecisionsChart({ overview }: { overview: Overview }) {
  const target = useRef<HTMLDivElement>(null);
  const { series } = overview;
  useEffect(() => {
    const element = target.current;
    if (!element) return;
    const labels = series.series.map((s) => s.label);
    const data: uPlot.AlignedData = [[...series.buckets], ...series.series.map((s) => [...s.counts])];
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 260,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { label: `decisions per ${series.bucketSeconds} s` }],
        series: [
          {},
          ...labels.map((label, i) => ({
            label,
            stroke: label.startsWith('rejected') ? '#b91c1c' : (COLOURS[i % COLOURS.length] as string),
            width: 2,
            dash: label.startsWith('rejected') ? [4, 3] : [],
            paths: uPlot.paths.stepped?.({ align: 1 }),
          })),
        ],
        plugins: [transitionMarks(series.transitions)],
      },
      data,
      element,
    );
    return () => plot.destroy();
  }, [overview]);
  return html`<div>
    <div ref=${target} class="chart" data-testid="decisions-chart"></div>
    ${series.series.length === 0 ? html`<p class="muted">no decisions in this window</p>` : null}
    <ul class="transitions" data-testid="transitions">
      ${series.transitions.map(
        (t) => html`<li class=${`to-${t.to}`}>
          <span class="when">${clock(t.at)}</span> <b>${t.breaker}</b> ${t.from.replace('_', '-')} → ${t.to.replace('_', '-')}
          (v${t.version}, ${t.reason})
        </li>`,
      )}
    </ul>
  </div>`;
}
