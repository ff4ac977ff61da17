/**
 * Rules records already in a deployed log keep working: rules items exactly as earlier code wrote
 * them (tests/support/old-format-rules-items.ts: a publication, a rollback to the bundled default, a
 * forced publication with its gate report, a shadow and a canary) are put into DynamoDB Local raw,
 * then read through the rules log adapter and every reader of the rules stream — the router's
 * cached read (active, shadow, canary), `rules history`/`export`/`diff`/`shadow-report`, the publish
 * gate and the ChangeRules decider (new records appended after the old ones), and what-if's check
 * of the provider names the published tables declare.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRulesLog } from '../../src/aws/dynamodb-rules-log.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { RULES_STREAM, rulesItemOf } from '../../src/log/rules-records.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { rulesVersionOf } from '../../src/routing/routing-table.ts';
import { CachedActiveRules } from '../../src/rules/active-rules.ts';
import { runCliOn } from '../support/cli-run.ts';
import { OLD_RULES_ITEMS, OLD_RULES_VERSIONS } from '../support/old-format-rules-items.ts';
import { aTableRoutingAutoTo } from '../support/rules.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
const documents = createDocumentClient();
const rulesLog = () => new DynamoDbRulesLog(documents, stack.tables.routingLog);

const cli = (...argv: string[]) => runCliOn(stack.stage, argv, { env: { ...process.env, USER: 'operator' } });

async function aTableFile(table: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'old-rules-')), 'table.json');
  await writeFile(file, JSON.stringify(table));
  return file;
}

beforeAll(async () => {
  stack = await aProvisionedStack();
  for (const item of OLD_RULES_ITEMS) {
    await documents.send(new PutCommand({ TableName: stack.tables.routingLog, Item: item }));
  }
});

afterAll(() => documents.destroy());

describe('old rules items read through the rules log adapter', () => {
  it('given the old items, when the stream is read, then each is a { type, data, metadata } record that maps back to the very item', async () => {
    const records = await rulesLog().readStream(RULES_STREAM);
    expect(records.map((record) => [record.type, record.data.action, record.metadata.version])).toEqual([
      ['RulesPublished', 'publish', 1],
      ['RulesPublished', 'rollback', 2],
      ['RulesPublished', 'publish', 3],
      ['RulesShadowChanged', 'shadow', 4],
      ['RulesCanaryChanged', 'canary', 5],
    ]);
    expect(records[2]).toMatchObject({
      data: { forced: true, gate: { violations: [expect.stringContaining('estimated cost')] } },
      metadata: { stream: RULES_STREAM, schemaVersion: 1, jobId: null },
    });
    expect(records.map(rulesItemOf)).toEqual(OLD_RULES_ITEMS);
    expect((await rulesLog().latest(RULES_STREAM))?.metadata.version).toBe(5);
  });

  it('given the old items, when the router reads the rules in force, then the old active table decides with the old shadow beside it and the old canary on its share', async () => {
    const rules = new CachedActiveRules(rulesLog(), { defaultTable: defaultRoutingTable, now: Date.now });
    const current = await rules.current();
    expect(current).toMatchObject({ source: 'published', recordVersion: 5 });
    expect(rulesVersionOf(current.table)).toBe(OLD_RULES_VERSIONS.active);
    expect(current.shadow && rulesVersionOf(current.shadow)).toBe(OLD_RULES_VERSIONS.shadow);
    expect(current.canary?.percent).toBe(12.5);
    expect(current.canary && rulesVersionOf(current.canary.table)).toBe(OLD_RULES_VERSIONS.canary);
  });
});

describe('the rules verbs over old items', () => {
  it('given the old items, when the history is printed as JSON, then each line is the item as stored', async () => {
    const history = await cli('rules', 'history', '--json');
    expect(history.code).toBe(0);
    expect(history.lines()).toEqual(OLD_RULES_ITEMS);
    const text = await cli('rules', 'history');
    expect(text.stdout).toMatch(/publish \(forced\)/);
    expect(text.stdout).toMatch(/canary 12\.5%/);
    expect(text.stdout).toMatch(/rollback\s+\S+\s+bundled default/);
  });

  it('given the old items, when tables are exported and compared by their printed versions, then each resolves to the table its item stored', async () => {
    const active = await cli('rules', 'export');
    expect(active.code).toBe(0);
    expect(rulesVersionOf(JSON.parse(active.stdout))).toBe(OLD_RULES_VERSIONS.active);
    // Only the first record (later rolled back) still carries this one: the fold keeps every table.
    const first = await cli('rules', 'export', '--version', OLD_RULES_VERSIONS.first);
    expect(first.code).toBe(0);
    expect(rulesVersionOf(JSON.parse(first.stdout))).toBe(OLD_RULES_VERSIONS.first);
    const byLabel = await cli('rules', 'export', '--version', 'old-shadow');
    expect(rulesVersionOf(JSON.parse(byLabel.stdout))).toBe(OLD_RULES_VERSIONS.shadow);
    const diff = await cli('rules', 'diff', OLD_RULES_VERSIONS.first, OLD_RULES_VERSIONS.active, '--json');
    expect(diff.code).toBe(0);
    expect(diff.json()).toMatchObject({ a: OLD_RULES_VERSIONS.first, b: OLD_RULES_VERSIONS.active });
    expect(diff.json().changes.length).toBeGreaterThan(0);
  });

  it('given the old items, when the shadow report runs, then it reads the window for the old shadow table', async () => {
    const report = await cli('rules', 'shadow-report', '--since', '1h', '--json');
    expect(report.code).toBe(0);
    expect(report.json()).toMatchObject({ decisions: 0, shadowed: 0 });
  });

  it('given the old items, when what-if names a provider only the old canary table declares, then it is accepted, and a typo is not', async () => {
    const candidate = await aTableFile(aTableRoutingAutoTo('replicate', 'what-if-candidate'));
    const window = ['--since', '2026-10-01T09:00:00.000Z', '--until', '2026-10-01T10:00:00.000Z'];
    const runway = await cli('what-if', '--rules', candidate, '--provider', 'runway', ...window, '--json');
    expect(runway.code).toBe(0);
    const typo = await cli('what-if', '--rules', candidate, '--provider', 'runwya', ...window, '--json');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/runway/);
  });

  it('given the old items, when rules change, then the decider and the publish gate read the old state and append after it', async () => {
    const candidate = await aTableFile(aTableRoutingAutoTo('fal', 'after-old-items'));
    // The old canary is running: a publication waits for it.
    const refused = await cli('rules', 'publish', candidate, '--why', 'next');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`canary ${OLD_RULES_VERSIONS.canary} is running`);
    const dryRun = await cli('rules', 'publish', candidate, '--why', 'next', '--dry-run', '--json');
    expect(dryRun.code).toBe(0);
    expect(dryRun.json()).toMatchObject({ dryRun: true, gate: { violations: [] } });

    expect((await cli('rules', 'rollback', '--why', 'stop the old canary')).code).toBe(0);
    const published = await cli('rules', 'publish', candidate, '--why', 'next', '--json');
    expect(published.code).toBe(0);
    expect(published.json()).toMatchObject({
      outcome: 'appended',
      record: {
        stream: RULES_STREAM,
        version: 7,
        action: 'publish',
        previous: [null, OLD_RULES_VERSIONS.active],
      },
    });
    // Rolling back restores the table only an old item stored.
    const rollback = await cli('rules', 'rollback', '--why', 'back', '--json');
    expect(rollback.json()).toMatchObject({
      outcome: 'appended',
      record: {
        version: 8,
        action: 'rollback',
        subject: OLD_RULES_VERSIONS.active,
        shadow: { rulesVersion: OLD_RULES_VERSIONS.shadow },
      },
    });
    const records = await rulesLog().readStream(RULES_STREAM);
    expect(records.map((record) => record.metadata.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(records.slice(0, 5).map(rulesItemOf)).toEqual(OLD_RULES_ITEMS);
  });
});
