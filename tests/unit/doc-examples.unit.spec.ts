import { describe, expect, it } from 'vitest';
import { docExamples, inlineCommandsOf } from '../support/doc-examples.ts';

const doc = (...lines: string[]) => docExamples('doc.md', lines.join('\n'));

describe('extracting the runnable examples of a markdown document', () => {
  it('given a bash block, then each command is extracted with its line, continuations joined and comments dropped', () => {
    const { commands } = doc(
      'text',
      '```bash',
      '# a comment',
      'routing-manager decisions \\',
      '  --since 1h',
      '```',
    );
    expect(commands).toEqual([
      { doc: 'doc.md', line: 4, text: 'routing-manager decisions  --since 1h', exits: [0], inline: false },
    ]);
  });

  it('given a heredoc, then it is one command up to its terminator', () => {
    const { commands } = doc('```bash', "cat > x.json <<'JSON'", '[1]', 'JSON', 'echo done', '```');
    expect(commands.map((c) => c.text)).toEqual(["cat > x.json <<'JSON'\n[1]\nJSON", 'echo done']);
  });

  it('given a console block, then only the $ lines are commands', () => {
    const { commands } = doc('```console', '$ routing-manager health', 'breaker  status', '```');
    expect(commands.map((c) => c.text)).toEqual(['routing-manager health']);
  });

  it('given skip, file and exit markers, then the block is skipped, written or expected to end so', () => {
    const examples = doc(
      '<!-- example: skip needs AWS -->',
      '```bash',
      'aws lambda invoke',
      '```',
      '<!-- example: file signals.json -->',
      '',
      '```json',
      '[]',
      '```',
      '<!-- example: exit 4 -->',
      '```bash',
      'routing-manager rules publish x.json --why y',
      '```',
    );
    expect(examples.skipped).toEqual([{ doc: 'doc.md', line: 2, reason: 'needs AWS' }]);
    expect(examples.files).toEqual([{ doc: 'doc.md', line: 7, name: 'signals.json', text: '[]\n' }]);
    expect(examples.commands).toMatchObject([
      { text: 'routing-manager rules publish x.json --why y', exits: [4] },
    ]);
    expect(examples.problems).toEqual([]);
  });

  it('given a skip without a reason, then it is a problem of the document', () => {
    expect(doc('<!-- example: skip -->', '```bash', 'x', '```').problems).toEqual([
      'doc.md:2: "example: skip" needs a reason',
    ]);
  });

  it('given inline spans, then only complete commands are runnable: no placeholder, not a bare verb', () => {
    expect(
      inlineCommandsOf(
        'Run `routing-manager history drill-1`, `routing-manager history <jobId>`, `routing-manager redrive`, ' +
          '`routing-manager replay --incident KEY`, `routing-manager provider open fal --why "a NOTE"`, ' +
          '`routing-manager rules canary FILE --percent P`, `npm run local -- --keep`, `aws sqs purge-queue`.',
      ),
    ).toEqual([
      'routing-manager history drill-1',
      'routing-manager provider open fal --why "a NOTE"',
      'npm run local -- --keep',
    ]);
  });
});
