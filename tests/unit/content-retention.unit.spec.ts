import { describe, expect, it } from 'vitest';
import { splitJob } from '../../src/content/job-content.ts';
import { protectRecord } from '../../src/content/protect-record.ts';
import type { ContentErasedRecord, DecisionRecord } from '../../src/log/routing-records.ts';
import type { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { CONTENT_UNAVAILABLE, projectWithContent } from '../../src/projections/content-retention.ts';
import { contentKeyRing } from '../support/content.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import {
  aNoRouteRecord,
  aReplayOf,
  aRoutedRecord,
  RECORDED_AT,
  withData,
  withMetadata,
} from '../support/records.ts';

async function sealed<R extends DecisionRecord>(vault: InMemoryContentVault, record: R): Promise<R> {
  const key = await contentKeyRing(vault).sealingKey(new Date(RECORDED_AT));
  return protectRecord(record, splitJob(JSON.parse(record.data.job ?? '{}')), key);
}

const erasure = (record: DecisionRecord, version = 2): ContentErasedRecord => ({
  type: 'ContentErased',
  data: { erasureId: 'erasure-1', requestedBy: 'dpo', why: 'request #1' },
  metadata: {
    stream: record.metadata.stream,
    version,
    schemaVersion: 1,
    jobId: record.metadata.jobId,
    recordedAt: '2026-11-25T10:00:04.000Z',
  },
});

const RETAINED_UNTIL = Date.parse(RECORDED_AT) / 1000 + 30 * 86_400;

describe('the projector content step', () => {
  it('given a fresh sealed routed record, when projected, then the provider gets the whole job and the content is retained for 30 days', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'j1', prompt: 'corgi surfing' }));
    const [outcome] = await projectWithContent([record], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent[0]?.message.body).toContain('corgi surfing');
    expect(vault.items.get('job#j1')).toEqual({
      id: 'job#j1',
      userId: 'user-123',
      recordedAt: RECORDED_AT,
      content: JSON.stringify({ userId: 'user-123', prompt: 'corgi surfing' }),
      expiresAt: RETAINED_UNTIL,
    });
  });

  it('given a routed record whose transit key is gone, when projected, then nothing is sent and the record fails as ContentUnavailable', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord());
    vault.keys.clear();
    const [outcome] = await projectWithContent([record], ports);
    expect(outcome).toMatchObject({ ok: false, failure: { effect: 'content', code: CONTENT_UNAVAILABLE } });
    expect(queues.sent).toHaveLength(0);
  });

  it('given sealed content that does not open, when projected, then the record fails as ContentUnavailable', async () => {
    const { ports, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord());
    const moved = withMetadata(record, { stream: 'job#elsewhere' });
    const [outcome] = await projectWithContent([moved], ports);
    expect(outcome).toMatchObject({ ok: false, failure: { code: CONTENT_UNAVAILABLE } });
  });

  it('given a rejection whose transit key is gone, when projected, then it is still announced (it needs no content)', async () => {
    const { ports, bus, vault } = fakePorts();
    const record = await sealed(vault, aNoRouteRecord());
    vault.keys.clear();
    const [outcome] = await projectWithContent([record], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { announce: 'done' } });
    expect(bus.published).toHaveLength(1);
  });

  it('given a decision and its erasure in one batch, when projected, then nothing is sent and only the erasure marker stays', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'j2' }));
    const outcomes = await projectWithContent([record, erasure(record)], ports);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    for (const outcome of outcomes)
      expect(outcome.effects).toEqual({
        dispatch: 'not_applicable',
        announce: 'not_applicable',
        status: 'not_applicable',
      });
    expect(queues.sent).toHaveLength(0);
    expect(vault.items.get('job#j2')).toEqual({ id: 'job#j2', erased: true });
  });

  it('given a replay of a job with retained content, when projected, then the retained content is dispatched under the new version', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'j3', prompt: 'otter' }));
    await projectWithContent([record], ports);
    vault.keys.clear();
    const [outcome] = await projectWithContent([aReplayOf(record)], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent.map((s) => s.message.dispatchId)).toEqual(['j3:v1', 'j3:v2']);
    expect(queues.sent[1]?.message.body).toContain('otter');
  });

  it('given a replay whose retained content item is corrupt, when projected with a neighbour, then the replay fails alone as ContentUnavailable, quoting nothing, and the neighbour is dispatched', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'j3', prompt: 'otter' }));
    await projectWithContent([record], ports);
    const item = vault.items.get('job#j3');
    if (!item) throw new Error('the content was not retained');
    vault.items.set('job#j3', { ...item, content: '"otter surfing' });
    const neighbour = await sealed(vault, aRoutedRecord({ jobId: 'j4', prompt: 'corgi' }));
    const [replay, other] = await projectWithContent([aReplayOf(record), neighbour], ports);
    expect(replay).toMatchObject({ ok: false, failure: { effect: 'content', code: CONTENT_UNAVAILABLE } });
    expect(JSON.stringify(replay)).not.toContain('otter');
    expect(other).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent.map((s) => s.message.dispatchId)).toEqual(['j3:v1', 'j4:v1']);
  });

  it('given a replay before the content was retained, when projected while the transit key lives, then the sealed copy is dispatched', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'j4', prompt: 'heron' }));
    const [outcome] = await projectWithContent([aReplayOf(record)], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent[0]?.message.body).toContain('heron');
  });

  it('given a replay of a job whose content is erased or expired, when projected, then nothing is sent and the record succeeds', async () => {
    const { ports, queues, bus, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord());
    vault.keys.clear();
    const withheld = withData(aReplayOf(record, 3), { contentWithheld: 'content_erased' });
    const outcomes = await projectWithContent([aReplayOf(record), withheld], ports);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(queues.sent).toHaveLength(0);
    expect(bus.published).toHaveLength(0);
  });

  it('given a record older than the retention, when projected, then it is dispatched but not retained', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'j5' }));
    const late = { ...ports, content: { ...ports.content, retentionDays: 0 } };
    await projectWithContent([record], late);
    expect(queues.sent).toHaveLength(1);
    expect(vault.items.size).toBe(0);
  });

  it('given the content store refuses the write, when projected, then the records that needed it fail before any effect', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord());
    const legacy = aRoutedRecord();
    const failing = {
      ...ports,
      content: {
        ...ports.content,
        store: {
          read: vault.read.bind(vault),
          idsOfUser: vault.idsOfUser.bind(vault),
          write: async () => Promise.reject(new Error('throttled')),
        },
      },
    };
    const outcomes = await projectWithContent([record, legacy], failing);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
    expect(outcomes[0]?.failure).toMatchObject({ effect: 'content', message: 'throttled' });
    expect(queues.sent.map((s) => s.message.jobId)).toEqual([legacy.metadata.jobId]);
  });

  it('given the keys cannot be read, when projected, then every record of the batch fails and nothing is sent', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord());
    const failing = {
      ...ports,
      content: { ...ports.content, keys: { openingKeys: async () => Promise.reject(new Error('down')) } },
    };
    const outcomes = await projectWithContent([record, aNoRouteRecord()], failing);
    expect(outcomes.every((o) => !o.ok && o.failure?.effect === 'content')).toBe(true);
    expect(queues.sent).toHaveLength(0);
  });
});
