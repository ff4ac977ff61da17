/**
 * `routing-manager rules validate|export`: what an operator sees for a candidate table before
 * anything touches AWS.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../../src/cli/main.ts';
import { renderGate } from '../../src/cli/verbs/rules/change-report.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';

afterAll(removeEventDirectories);

function anOperator() {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput();
  const io: CliIo = { stdout: stdout.stream, stderr: stderr.stream, env: { AWS_REGION: 'eu-west-1' } };
  return { run: (...argv: string[]) => runCli(argv, io), stdout, stderr };
}

async function aRulesFile(content: unknown): Promise<string> {
  return join(await anEventDirectory({ 'rules.json': content }), 'rules.json');
}

const withMistakes = {
  ...defaultRoutingTable,
  rules: [
    ...defaultRoutingTable.rules.slice(0, 2),
    { ...defaultRoutingTable.rules[2], when: { requestedProvider: ['auto'], resolutions: ['8 K'] } },
    defaultRoutingTable.rules[0],
  ],
};

describe('routing-manager rules validate', () => {
  it('given a table with mistakes, when validated, then every problem is printed with its path and the allowed values, and the exit code is 2', async () => {
    const operator = anOperator();
    const file = await aRulesFile(withMistakes);
    expect(await operator.run('rules', 'validate', file)).toBe(2);
    expect(operator.stdout.lines()).toEqual([
      `${file}: 2 problems`,
      '  rules[2].when.resolutions[0]: "8 K" is not a resolution name: lower-case a-z, 0-9, . _ - (at most 16)',
      '  rules[3].id: duplicate rule id "explicit-fal" (also rules[0])',
    ]);
  });

  it('given a valid table, when validated, then it says so with its version and exits 0', async () => {
    const operator = anOperator();
    const file = await aRulesFile(defaultRoutingTable);
    expect(await operator.run('rules', 'validate', file)).toBe(0);
    expect(operator.stdout.text()).toContain(`valid — version ${defaultRoutingTable.version}, 4 rules`);
  });

  it('given --json, when validated, then the problems come as one JSON object', async () => {
    const operator = anOperator();
    const file = await aRulesFile(withMistakes);
    expect(await operator.run('rules', 'validate', file, '--json')).toBe(2);
    expect(operator.stdout.jsonLines()).toEqual([
      { file, valid: false, problems: expect.arrayContaining([expect.stringMatching(/^rules\[3\]\.id: /)]) },
    ]);
  });

  it('given a file that is not JSON, when validated, then it is a usage error naming the file, line and column', async () => {
    const operator = anOperator();
    const file = await aRulesFile('{ nope');
    expect(await operator.run('rules', 'validate', file)).toBe(2);
    expect(operator.stderr.text()).toContain(`rules validate ${file}:1:3: not JSON: unexpected character`);
  });

  it('given a table with mistakes, when used by what-if, then the same messages are printed', async () => {
    const operator = anOperator();
    const file = await aRulesFile(withMistakes);
    expect(await operator.run('what-if', '--rules', file, '--since', '2026-11-25')).toBe(2);
    expect(operator.stderr.text()).toContain(
      'rules[2].when.resolutions[0]: "8 K" is not a resolution name: lower-case a-z, 0-9, . _ - (at most 16)',
    );
    expect(operator.stderr.text()).toContain('rules[3].id: duplicate rule id "explicit-fal" (also rules[0])');
  });
});

describe('the what-if gate as printed', () => {
  const gate = {
    since: '2026-11-24T10:00:00.000Z',
    until: '2026-11-25T10:00:00.000Z',
    scanned: 10,
    changed: 2,
    explicitProviderChanges: 0,
    rejectionRate: { before: 0, after: 0 },
    cost: { before: 1, after: 2, delta: 1 },
    transitions: [],
    violations: ['estimated cost 1 → 2 (+100% > 5%)'],
  };

  it('given a refusal, then it names the flags that go past it', () => {
    const text = renderGate(gate, 'refused');
    expect(text).toContain('refused because:');
    expect(text).toContain('--force');
    expect(text).toContain('--max-cost-increase');
  });

  it('given a forced publish, then it does not say "refused because"', () => {
    const text = renderGate(gate, 'forced');
    expect(text).not.toContain('refused because');
    expect(text).toContain('forced past the gate, which found:');
  });

  it('given costs, then they carry their unit', () => {
    expect(renderGate(gate, 'refused')).toContain('1 → 2 credits (+1 credits)');
  });
});
