import { describe, expect, it } from 'vitest';
import { splitJob } from '../../src/content/job-content.ts';
import { protectRecord } from '../../src/content/protect-record.ts';
import type { ContentErasedRecord, DecisionRecord } from '../../src/log/routing-records.ts';
import type { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import type { ContentStore, RetainedContent } from '../../src/ports/content-vault.ts';
import {
  CONTENT_UNAVAILABLE,
  type ProtectedProjectorPorts,
  projectWithContent,
} from '../../src/projections/content-retention.ts';
import { contentKeyRing } from '../support/content.ts';
import { fakePorts } from '../support/projector-fakes.ts';
import { aNoRouteRecord, aReplayOf, aRoutedRecord, RECORDED_AT } from '../support/records.ts';

async function sealed<R extends DecisionRecord>(vault: InMemoryContentVault, record: R): Promise<R> {
  const key = await contentKeyRing(vault).sealingKey(new Date(RECORDED_AT));
  return protectRecord(record, splitJob(JSON.parse(record.job ?? '{}')), key);
}

const erasure = (record: DecisionRecord, version = 2): ContentErasedRecord => ({
  stream: record.stream,
  version,
  schemaVersion: 1,
  jobId: record.jobId,
  recordedAt: '2026-11-25T10:00:04.000Z',
  type: 'ContentErased',
  erasureId: 'erasure-1',
  requestedBy: 'dpo',
  why: 'request #1',
});

/** The ports with some of the content store's methods replaced (the rest are the vault's). */
function withStore(
  ports: ProtectedProjectorPorts,
  vault: InMemoryContentVault,
  replaced: Partial<ContentStore>,
): ProtectedProjectorPorts {
  const store: ContentStore = {
    read: vault.read.bind(vault),
    idsOfUser: vault.idsOfUser.bind(vault),
    write: vault.write.bind(vault),
    retainNew: vault.retainNew.bind(vault),
    ...replaced,
  };
  return { ...ports, content: { ...ports.content, store } };
}

/** The vault with its reads counted: which job ids the projector read from the content store. */
function countingReads(vault: InMemoryContentVault): string[][] {
  const reads: string[][] = [];
  const read = vault.read.bind(vault);
  vault.read = async (ids) => {
    reads.push([...ids]);
    return read(ids);
  };
  return reads;
}

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
    const moved = { ...record, stream: 'job#elsewhere' };
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
    const withheld = { ...aReplayOf(record, 3), contentWithheld: 'content_erased' as const };
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
    const failing = withStore(ports, vault, {
      retainNew: async () => Promise.reject(new Error('throttled')),
    });
    const outcomes = await projectWithContent([record, legacy], failing);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
    expect(outcomes[0]?.failure).toMatchObject({ effect: 'content', message: 'throttled' });
    expect(queues.sent.map((s) => s.message.jobId)).toEqual([legacy.jobId]);
  });

  it('given the store answers one retaining write as failed, when projected with a neighbour, then that record fails alone and the neighbour is dispatched', async () => {
    const { ports, queues, vault } = fakePorts();
    const [failed, neighbour] = [
      await sealed(vault, aRoutedRecord({ jobId: 'j6' })),
      await sealed(vault, aRoutedRecord({ jobId: 'j7' })),
    ];
    const oneFails = withStore(ports, vault, {
      retainNew: async (items: readonly RetainedContent[]) => {
        const outcomes = await vault.retainNew(items.filter((item) => item.id !== failed.stream));
        return outcomes.set(failed.stream, { kind: 'failed', code: 'ThrottlingError', message: 'slow down' });
      },
    });
    const outcomes = await projectWithContent([failed, neighbour], oneFails);
    expect(outcomes[0]).toMatchObject({
      ok: false,
      failure: { effect: 'content', code: 'ThrottlingError' },
      effects: { dispatch: 'not_attempted' },
    });
    expect(outcomes[1]).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent.map((s) => s.message.jobId)).toEqual(['j7']);
  });

  it('given the erasure marker cannot be written, when a ContentErased record is projected, then it fails (and is redelivered)', async () => {
    const { ports, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'j8' }));
    const failing = withStore(ports, vault, { write: async () => Promise.reject(new Error('throttled')) });
    const [outcome] = await projectWithContent([erasure(record)], failing);
    expect(outcome).toMatchObject({ ok: false, failure: { effect: 'content', message: 'throttled' } });
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

describe("a fresh decision's erasure check is its retaining write", () => {
  it('given a fresh sealed routed record, when projected, then the content store is not read: the write that retains its content says whether the job is erased', async () => {
    const { ports, queues, vault } = fakePorts();
    const reads = countingReads(vault);
    const record = await sealed(vault, aRoutedRecord({ jobId: 'e1', prompt: 'corgi surfing' }));
    const [outcome] = await projectWithContent([record], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent[0]?.message.body).toContain('corgi surfing');
    expect(reads).toEqual([]);
  });

  it('given forget erased a job whose decision is delivered again (its content retained by the first delivery), when projected, then nothing is sent and the erasure marker stays', async () => {
    const { ports, queues, bus, vault } = fakePorts();
    const reads = countingReads(vault);
    const record = await sealed(vault, aRoutedRecord({ jobId: 'e2', prompt: 'a secret garden' }));
    await vault.retainNew([
      { id: 'job#e2', userId: 'user-123', recordedAt: RECORDED_AT, content: '{}', expiresAt: RETAINED_UNTIL },
    ]);
    await vault.write({ retain: [], erase: ['job#e2'] });
    const [outcome] = await projectWithContent([record], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'not_applicable' } });
    expect(queues.sent).toEqual([]);
    expect(bus.published).toEqual([]);
    expect(vault.items.get('job#e2')).toEqual({ id: 'job#e2', erased: true });
    expect(reads).toEqual([]);
  });

  it('given a decision delivered again whose content an earlier delivery retained, when projected, then it is sent and the retained item is left as it was', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'e3', prompt: 'otter' }));
    const earlier = {
      id: 'job#e3',
      userId: 'user-123',
      recordedAt: RECORDED_AT,
      content: JSON.stringify({ userId: 'user-123', prompt: 'otter' }),
      expiresAt: RETAINED_UNTIL,
    };
    await vault.retainNew([earlier]);
    const [outcome] = await projectWithContent([record], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'done' } });
    expect(queues.sent[0]?.message.body).toContain('otter');
    expect(vault.items.get('job#e3')).toEqual(earlier);
  });

  it('given a rejection delivered again after its job was erased, when projected, then it is announced and the erasure marker is not overwritten by its content', async () => {
    const { ports, bus, vault } = fakePorts();
    const record = await sealed(vault, aNoRouteRecord());
    await vault.write({ retain: [], erase: [record.stream] });
    const [outcome] = await projectWithContent([record], ports);
    expect(outcome).toMatchObject({ ok: true, effects: { announce: 'done' } });
    expect(bus.published).toHaveLength(1);
    expect(vault.items.get(record.stream)).toEqual({ id: record.stream, erased: true });
  });

  it('given a decision past its retention whose job was erased, when projected, then its stored item is read (nothing is retained to tell) and nothing is sent', async () => {
    const { ports, queues, vault } = fakePorts();
    const reads = countingReads(vault);
    const record = await sealed(vault, aRoutedRecord({ jobId: 'e4' }));
    await vault.write({ retain: [], erase: ['job#e4'] });
    const late = { ...ports, content: { ...ports.content, retentionDays: 0 } };
    const [outcome] = await projectWithContent([record], late);
    expect(outcome).toMatchObject({ ok: true, effects: { dispatch: 'not_applicable' } });
    expect(queues.sent).toEqual([]);
    expect(reads).toEqual([['job#e4']]);
  });

  it('given a decision delivered twice in one batch, when projected, then its content is retained once and both answers follow it', async () => {
    const { ports, queues, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'e5' }));
    const outcomes = await projectWithContent([record, record], ports);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(queues.sent.map((s) => s.message.dispatchId)).toEqual(['e5:v1']);
    expect(vault.items.size).toBe(1);
  });
});

describe('completion markers of a fresh decision', () => {
  it('given a fresh sealed decision, when projected, then no completion marker is read for it: this delivery is the first to retain its content, so none acted on it before', async () => {
    const { ports, markers, vault } = fakePorts();
    const asked: string[] = [];
    const read = markers.read.bind(markers);
    markers.read = async (ids) => {
      asked.push(...ids);
      return read(ids);
    };
    const fresh = await sealed(vault, aRoutedRecord({ jobId: 'm1' }));
    const legacy = aRoutedRecord({ jobId: 'm2' });
    const outcomes = await projectWithContent([fresh, legacy], ports);
    expect(outcomes.map((o) => o.effects.dispatch)).toEqual(['done', 'done']);
    expect(asked).toEqual(['job#m2:v1']);
  });

  it('given a decision whose first delivery dispatched it but failed to write its status, when delivered again, then its marker is read: it is not dispatched again and its status is written', async () => {
    const { ports, queues, jobs, vault } = fakePorts();
    const record = await sealed(vault, aRoutedRecord({ jobId: 'm3' }));
    jobs.fail = () => new Error('throttled');
    const [first] = await projectWithContent([record], ports);
    expect(first).toMatchObject({ ok: false, effects: { dispatch: 'done', status: 'failed' } });
    jobs.fail = () => undefined;
    const [again] = await projectWithContent([record], ports);
    expect(again).toMatchObject({ ok: true, effects: { dispatch: 'skipped', status: 'done' } });
    expect(queues.sent.map((s) => s.message.dispatchId)).toEqual(['m3:v1']);
  });
});
