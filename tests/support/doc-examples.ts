/**
 * The runnable examples of README.md and docs/*.md, extracted from the markdown so the docs cannot
 * drift from the code (tests/integration/docs-examples.int.spec.ts runs them). The convention, which
 * docs/ARCHITECTURE.md#documented-examples states for doc writers:
 *
 * - A fenced block in `bash`, `sh`, `shell` or `console` is **run**, command by command, unless the
 *   line before it (blank lines aside) is `<!-- example: skip REASON -->` — the reason is required
 *   (e.g. "needs a deployed stack"). In `console` blocks only `$ `-prefixed lines are commands; the
 *   rest is sample output. A command must exit 0, or the code a `<!-- example: exit N -->` marker
 *   before the block names.
 * - A fenced `json` block preceded by `<!-- example: file NAME -->` is an **example file**: it is
 *   written as NAME into the working directory before the doc's commands run, so prose can say
 *   `npm run local -- NAME`. Other `json` blocks are illustrations (EVENT_SCHEMA.md's are checked
 *   against the schema by tests/unit/event-schema-doc.unit.spec.ts).
 * - An inline code span that starts with `routing-manager `, `npx routing-manager ` or
 *   `npm run local` is an **inline command** and is run too, unless it holds a placeholder (`<…>`,
 *   `[…]`, `…`, `a|b`, or an argument in capitals without digits: `FILE`, `KEY`, `P`) or only names
 *   a verb (`routing-manager redrive` in a sentence: a command has an option or an argument). An inline
 *   command may end in a state the live stack gives it (not found, refused: exit 3 or 4), never in a
 *   usage (2) or runtime (1) error.
 *
 * Commands run in document order, README.md first, then docs/*.md by name.
 */

export interface DocCommand {
  readonly doc: string;
  /** 1-based line of the command in the markdown. */
  readonly line: number;
  /** The command as a shell would read it: continuation lines joined, a heredoc kept whole. */
  readonly text: string;
  /** Exit codes the command may end with. */
  readonly exits: readonly number[];
  readonly inline: boolean;
}

export interface DocFile {
  readonly doc: string;
  readonly line: number;
  readonly name: string;
  readonly text: string;
}

export interface DocSkip {
  readonly doc: string;
  readonly line: number;
  readonly reason: string;
}

export interface DocExamples {
  readonly commands: readonly DocCommand[];
  readonly files: readonly DocFile[];
  readonly skipped: readonly DocSkip[];
  /** Fenced blocks that break the convention (e.g. a skip without a reason), with why. */
  readonly problems: readonly string[];
}

const RUN_LANGUAGES = new Set(['bash', 'sh', 'shell', 'console']);
const MARKER = /^<!--\s*example:\s*(skip|file|exit)\b\s*(.*?)\s*-->$/;
const INLINE_COMMAND = /^(npx routing-manager|routing-manager|npm run local)(\s|$)/;
const PLACEHOLDER = /<[^>\s]*[A-Za-z][^>]*>|\[|…|\S\|\S/;
const CAPITALS_ARGUMENT = /(^|\s)[A-Z][A-Z_]*(\s|$)/;

/** Shell commands of a block: comments and blank lines dropped, `\` continuations and heredocs joined. */
export function commandsOf(lines: readonly string[], firstLine: number, consoleBlock: boolean) {
  const commands: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (consoleBlock) {
      if (!line.startsWith('$ ')) continue;
      line = line.slice(2);
    }
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const start = i;
    let text = line;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      i++;
      text = `${text.slice(0, -1)} ${(lines[i] as string).trim()}`;
    }
    const heredoc = /<<-?\s*'?"?(\w+)'?"?\s*$/.exec(text);
    if (heredoc) {
      const end = lines.findIndex((candidate, j) => j > i && candidate.trim() === heredoc[1]);
      const last = end === -1 ? lines.length - 1 : end;
      text = [text, ...lines.slice(i + 1, last + 1)].join('\n');
      i = last;
    }
    commands.push({ text, line: firstLine + start });
  }
  return commands;
}

/** Inline code spans of a line that are runnable commands (no placeholder). */
export function inlineCommandsOf(line: string): string[] {
  const spans = [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
  return spans.filter(
    (span) =>
      INLINE_COMMAND.test(span) &&
      !PLACEHOLDER.test(span) &&
      !CAPITALS_ARGUMENT.test(unquoted(span)) &&
      !namesOnlyAVerb(span),
  );
}

// `routing-manager redrive` in a sentence names the verb; a command has an option or an argument.
const namesOnlyAVerb = (span: string): boolean =>
  /^(npx )?routing-manager( [a-z][a-z-]*)*$/.test(span.trim());

// Quoted text is free prose ("fal dropped messages"), not an argument that names a placeholder.
const unquoted = (span: string): string => span.replace(/"[^"]*"|'[^']*'/g, '""');

export function docExamples(doc: string, markdown: string): DocExamples {
  const lines = markdown.split('\n');
  const commands: DocCommand[] = [];
  const files: DocFile[] = [];
  const skipped: DocSkip[] = [];
  const problems: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const fence = /^(\s*)```+\s*([\w-]*)/.exec(line);
    if (!fence) {
      if (MARKER.test(line.trim())) continue;
      for (const text of inlineCommandsOf(line))
        commands.push({ doc, line: i + 1, text, exits: [0, 3, 4], inline: true });
      continue;
    }
    const language = (fence[2] ?? '').toLowerCase();
    const end = lines.findIndex((candidate, j) => j > i && /^\s*```/.test(candidate));
    const close = end === -1 ? lines.length : end;
    const body = lines.slice(i + 1, close);
    const marker = markerBefore(lines, i);
    const where = `${doc}:${i + 1}`;
    if (marker?.kind === 'skip') {
      if (marker.argument === '') problems.push(`${where}: "example: skip" needs a reason`);
      skipped.push({ doc, line: i + 1, reason: marker.argument });
    } else if (marker?.kind === 'file') {
      if (marker.argument === '') problems.push(`${where}: "example: file" needs a file name`);
      files.push({ doc, line: i + 1, name: marker.argument, text: `${body.join('\n')}\n` });
    } else if (RUN_LANGUAGES.has(language)) {
      const exits = marker?.kind === 'exit' ? [Number(marker.argument)] : [0];
      if (exits.some((code) => !Number.isInteger(code)))
        problems.push(`${where}: "example: exit" needs a number`);
      for (const command of commandsOf(body, i + 2, language === 'console')) {
        commands.push({ doc, line: command.line, text: command.text, exits, inline: false });
      }
    } else if (marker) {
      problems.push(`${where}: "example: ${marker.kind}" on a ${language || 'plain'} block does nothing`);
    }
    i = close;
  }
  return { commands, files, skipped, problems };
}

function markerBefore(lines: readonly string[], fenceIndex: number) {
  for (let j = fenceIndex - 1; j >= 0; j--) {
    const text = (lines[j] as string).trim();
    if (text === '') continue;
    const marker = MARKER.exec(text);
    return marker ? { kind: marker[1] as 'skip' | 'file' | 'exit', argument: marker[2] ?? '' } : undefined;
  }
  return undefined;
}
