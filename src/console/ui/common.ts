/** Pieces every panel uses: its frame, the command lines it ran, its error. */
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import type { Panel } from './api.ts';

export function Commands({ commands }: { commands: readonly string[] }) {
  if (commands.length === 0) return null;
  return html`<details class="commands">
    <summary>same as ${commands.length} CLI command${commands.length === 1 ? '' : 's'}</summary>
    <pre>${commands.join('\n')}</pre>
  </details>`;
}

export function Frame({
  title,
  id,
  panel,
  children,
}: {
  title: string;
  id: string;
  panel?: Panel<unknown> | null;
  children?: ComponentChildren;
}) {
  return html`<section class="panel" data-testid=${id} id=${id}>
    <h2>${title}</h2>
    ${panel?.error ? html`<p class="error" data-testid="panel-error">${panel.error.command}: ${panel.error.message}</p>` : null}
    ${children}
    ${panel ? html`<${Commands} commands=${panel.commands} />` : null}
  </section>`;
}
