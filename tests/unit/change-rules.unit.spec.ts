/**
 * ChangeRules: publishing, gating, promoting, rolling back, shadow and canary as records — given
 * the history of the rules stream, when a command runs, then the record it appends (or why not).
 */

import { describe, expect, it } from 'vitest';
import {
  type ChangeRules,
  changeRules,
  decideRulesChange,
  MissingGatePortsError,
} from '../../src/commands/change-rules.ts';
import { VersionConflictError } from '../../src/errors.ts';
import {
  type GateReport,
  MAX_TABLE_BYTES,
  type RulesRecord,
  rulesStateOf,
} from '../../src/log/rules-records.ts';
import { InMemoryAuditIndex } from '../../src/memory/in-memory-audit-index.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryRulesLog } from '../../src/memory/in-memory-rules-log.ts';
import type { RulesLog } from '../../src/ports/rules-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { loadRoutingTable, rulesVersionOf } from '../../src/routing/routing-table.ts';
import { DEFAULT_GATE_THRESHOLDS } from '../../src/rules/publish-gate.ts';
import { appendRulesRecord } from '../support/log-appends.ts';
import { aTableRoutingAutoTo, publish, rulesRecordsOf } from '../support/rules.ts';

const toReplicate = aTableRoutingAutoTo('replicate');
const backToFal = aTableRoutingAutoTo('fal', 'back-to-fal');
const AT = '2026-11-25T12:00:00.000Z';
const author = { by: 'ops', why: 'because' };

const aGate = (violations: string[] = []): GateReport => ({
  since: '2026-11-24T12:00:00.000Z',
  until: AT,
  scanned: 10,
  changed: 3,
  explicitProviderChanges: violations.length,
  rejectionRate: { before: 10, after: 10 },
  cost: { before: 1, after: 1.2, delta: 0.2 },
  transitions: [],
  violations,
});

const aGateRequest = {
  window: { since: '2026-11-24T12:00:00.000Z', until: AT },
  thresholds: DEFAULT_GATE_THRESHOLDS,
};

describe('publishing rules', () => {
  it('given no rules published, when a table is published, then version 1 makes it active and remembers the default as previous', () => {
    const decision = decideRulesChange(rulesStateOf([]), publish(toReplicate), AT);
    expect(decision).toMatchObject({
      outcome: 'append',
      record: {
        type: 'RulesPublished',
        data: {
          action: 'publish',
          subject: rulesVersionOf(toReplicate),
          active: { rulesVersion: rulesVersionOf(toReplicate) },
          previous: [null],
          forced: false,
        },
        metadata: { stream: 'rules#routing', version: 1, recordedAt: AT, schemaVersion: 1, jobId: null },
      },
    });
  });

  it('given a gate with violations, when published without --force, then it is refused with the gate and nothing is appended', () => {
    const gate = aGate(['1 decision(s) for an explicitly requested provider would change']);
    const decision = decideRulesChange(
      rulesStateOf([]),
      { type: 'PublishRules', data: { ...author, table: toReplicate, gate: aGateRequest, force: false } },
      AT,
      gate,
    );
    expect(decision).toEqual({ outcome: 'refused', message: expect.stringContaining('gate refused'), gate });
  });

  it('given a gate with violations, when published with --force, then the record says it was forced and keeps the gate', () => {
    const gate = aGate(['estimated cost rose']);
    const decision = decideRulesChange(
      rulesStateOf([]),
      { type: 'PublishRules', data: { ...author, table: toReplicate, gate: aGateRequest, force: true } },
      AT,
      gate,
    );
    expect(decision).toMatchObject({ outcome: 'append', record: { data: { forced: true, gate } } });
  });

  it('given a passing gate, when published with --force, then it is not recorded as forced', () => {
    const decision = decideRulesChange(
      rulesStateOf([]),
      { type: 'PublishRules', data: { ...author, table: toReplicate, gate: aGateRequest, force: true } },
      AT,
      aGate(),
    );
    expect(decision).toMatchObject({ outcome: 'append', record: { data: { forced: false } } });
  });

  it('given the table is already active, when published again, then nothing changes', () => {
    const history = rulesRecordsOf([publish(toReplicate)]);
    expect(decideRulesChange(rulesStateOf(history), publish(toReplicate), AT)).toMatchObject({
      outcome: 'unchanged',
    });
  });

  it('given a table too large for a rules record, when published, then it is refused with its size', () => {
    const huge = loadRoutingTable({
      ...defaultRoutingTable,
      version: 'huge',
      rules: [{ ...defaultRoutingTable.rules[3], description: 'x'.repeat(MAX_TABLE_BYTES) }],
    });
    expect(decideRulesChange(rulesStateOf([]), publish(huge), AT)).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('bytes'),
    });
  });
});

describe('rolling back', () => {
  it('given two publications, when rolled back, then the previous version is active again, and a second rollback restores the default', () => {
    const history = rulesRecordsOf([publish(toReplicate), publish(backToFal)]);
    const first = decideRulesChange(rulesStateOf(history), { type: 'RollbackRules', data: author }, AT);
    expect(first).toMatchObject({
      outcome: 'append',
      record: {
        data: { action: 'rollback', active: { rulesVersion: rulesVersionOf(toReplicate) }, previous: [null] },
        metadata: { version: 3 },
      },
    });
    const after = [...history, (first as unknown as { record: RulesRecord }).record];
    expect(decideRulesChange(rulesStateOf(after), { type: 'RollbackRules', data: author }, AT)).toMatchObject(
      {
        outcome: 'append',
        record: { data: { action: 'rollback', active: null, previous: [] } },
      },
    );
  });

  it('given nothing was ever published, when rolled back, then it is refused', () => {
    expect(decideRulesChange(rulesStateOf([]), { type: 'RollbackRules', data: author }, AT)).toMatchObject({
      outcome: 'refused',
    });
  });
});

describe('shadow and canary', () => {
  it('given a shadow candidate, when started and stopped, then the active rules never change', () => {
    const history = rulesRecordsOf([
      publish(toReplicate),
      { type: 'ShadowRules', data: { ...author, table: backToFal } },
    ]);
    expect(history[1]).toMatchObject({
      type: 'RulesShadowChanged',
      data: { shadow: { rulesVersion: rulesVersionOf(backToFal) }, active: history[0]?.data.active },
    });
    expect(
      decideRulesChange(rulesStateOf(history), { type: 'ShadowRules', data: { ...author, table: null } }, AT),
    ).toMatchObject({
      outcome: 'append',
      record: { data: { action: 'shadow-stop', shadow: null, active: history[0]?.data.active } },
    });
    expect(
      decideRulesChange(
        rulesStateOf(history),
        { type: 'ShadowRules', data: { ...author, table: backToFal } },
        AT,
      ),
    ).toMatchObject({ outcome: 'unchanged' });
  });

  it('given a canary, when promoted, then it becomes active with the old active as previous and the canary ends', () => {
    const canary: ChangeRules = { type: 'CanaryRules', data: { ...author, table: toReplicate, percent: 10 } };
    const history = rulesRecordsOf([canary]);
    expect(history[0]).toMatchObject({
      data: { canary: { percent: 10, rulesVersion: rulesVersionOf(toReplicate) }, active: null },
    });
    expect(decideRulesChange(rulesStateOf(history), publish(backToFal), AT)).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('canary'),
    });
    expect(
      decideRulesChange(rulesStateOf(history), { type: 'PromoteCanary', data: author }, AT),
    ).toMatchObject({
      outcome: 'append',
      record: {
        data: {
          action: 'promote',
          canary: null,
          active: { rulesVersion: rulesVersionOf(toReplicate) },
          previous: [null],
        },
      },
    });
  });

  it('given a canary, when rolled back, then the canary stops and the active rules stay', () => {
    const history = rulesRecordsOf([
      publish(backToFal),
      { type: 'CanaryRules', data: { ...author, table: toReplicate, percent: 5 } },
    ]);
    expect(
      decideRulesChange(rulesStateOf(history), { type: 'RollbackRules', data: author }, AT),
    ).toMatchObject({
      outcome: 'append',
      record: {
        data: { action: 'canary-stop', canary: null, active: { rulesVersion: rulesVersionOf(backToFal) } },
      },
    });
  });

  it('given a canary, when ramped to a new share, then the same candidate runs on it; another candidate is refused', () => {
    const history = rulesRecordsOf([
      { type: 'CanaryRules', data: { ...author, table: toReplicate, percent: 5 } },
    ]);
    expect(
      decideRulesChange(
        rulesStateOf(history),
        { type: 'CanaryRules', data: { ...author, table: toReplicate, percent: 50 } },
        AT,
      ),
    ).toMatchObject({
      outcome: 'append',
      record: { data: { canary: { percent: 50 } } },
    });
    expect(
      decideRulesChange(
        rulesStateOf(history),
        { type: 'CanaryRules', data: { ...author, table: toReplicate, percent: 5 } },
        AT,
      ),
    ).toMatchObject({ outcome: 'unchanged' });
    expect(
      decideRulesChange(
        rulesStateOf(history),
        { type: 'CanaryRules', data: { ...author, table: backToFal, percent: 5 } },
        AT,
      ),
    ).toMatchObject({ outcome: 'refused' });
    expect(
      decideRulesChange(
        rulesStateOf([]),
        { type: 'CanaryRules', data: { ...author, table: null, percent: 0 } },
        AT,
      ),
    ).toMatchObject({ outcome: 'unchanged' });
    expect(decideRulesChange(rulesStateOf([]), { type: 'PromoteCanary', data: author }, AT)).toMatchObject({
      outcome: 'refused',
    });
  });
});

describe('the ChangeRules handler', () => {
  it('given another operator appends first, when publishing, then it re-reads and appends the next version', async () => {
    const inner = new InMemoryRulesLog();
    let raced = false;
    const racing: RulesLog = {
      latest: (stream) => inner.latest(stream),
      readStream: (stream) => inner.readStream(stream),
      appendToStream: async (stream, records, options) => {
        if (!raced) {
          raced = true;
          await appendRulesRecord(inner, rulesRecordsOf([publish(backToFal)])[0] as never);
        }
        return inner.appendToStream(stream, records, options);
      },
    };
    const result = await changeRules(publish(toReplicate), {
      rules: racing,
      now: () => new Date(AT),
      retry: { sleep: async () => {} },
    });
    expect(result).toMatchObject({
      outcome: 'appended',
      record: { data: { previous: [null, rulesVersionOf(backToFal)] }, metadata: { version: 2 } },
    });
  });

  it('given every append conflicts, when publishing, then it gives up as contended', async () => {
    const log: RulesLog = {
      latest: async () => null,
      readStream: async () => [],
      appendToStream: async () => {
        throw new VersionConflictError('rules#routing', 1);
      },
    };
    expect(
      await changeRules(publish(toReplicate), {
        rules: log,
        now: () => new Date(AT),
        retry: { sleep: async () => {} },
      }),
    ).toMatchObject({
      outcome: 'contended',
    });
  });

  it('given a gated publication, when it runs, then its read step re-decides the window through the audit index and the record keeps the report', async () => {
    const rules = new InMemoryRulesLog();
    const gated: ChangeRules = {
      type: 'PublishRules',
      data: { ...author, table: toReplicate, gate: aGateRequest, force: false },
    };
    const result = await changeRules(gated, {
      rules,
      now: () => new Date(AT),
      gate: { decisions: new InMemoryAuditIndex(), credits: new InMemoryCreditBalances() },
    });
    expect(result).toMatchObject({
      outcome: 'appended',
      record: { data: { gate: { since: aGateRequest.window.since, until: AT, scanned: 0, violations: [] } } },
    });
  });

  it('given a gated publication without the ports to read its window, then it fails as a wiring error', async () => {
    const gated: ChangeRules = {
      type: 'PublishRules',
      data: { ...author, table: toReplicate, gate: aGateRequest, force: false },
    };
    await expect(
      changeRules(gated, { rules: new InMemoryRulesLog(), now: () => new Date(AT) }),
    ).rejects.toBeInstanceOf(MissingGatePortsError);
  });
});
