import { describe, expect, it } from 'vitest';
import { ContentKeyRing } from '../../src/content/content-key-ring.ts';
import {
  joinJob,
  routingInputOf,
  splitJob,
  splitRawDetail,
  userIdOf,
} from '../../src/content/job-content.ts';
import { protectRecord, sealBindingOf, withContent } from '../../src/content/protect-record.ts';
import {
  ContentSealError,
  keyHourOf,
  openSealedContent,
  sealContent,
  transitKeyOf,
} from '../../src/content/sealed-content.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import type { ContentErasedRecord } from '../../src/log/routing-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryKeyService } from '../../src/memory/in-memory-key-service.ts';
import { contentStatusOf, withoutSealedContent } from '../../src/queries/content-status.ts';
import { contentKeyRing } from '../support/content.ts';
import { aReplayOf, aRoutedRecord, RECORDED_AT } from '../support/records.ts';

const AT = new Date(RECORDED_AT);
const aKey = (keyId = 'transit#2026-11-25T10#i1', fill = 1) => ({
  keyId,
  key: Buffer.alloc(32, fill),
  expiresAt: keyHourOf(AT).expiresAt,
});

describe('which parts of a job are facts and which are user content', () => {
  it('given a validated job, when split, then only the routing inputs stay in clear and joining restores the job', () => {
    const job = {
      jobId: 'j1',
      userId: 'user-1',
      prompt: 'corgi surfing',
      lengthSec: 8,
      resolution: '720p',
      tier: 'standard',
      provider: 'auto',
      feature: { audio: true, voice: 'alto' },
      callbackUrl: 'https://example.test/cb',
    };
    const { facts, content } = splitJob(job);
    expect(facts).toEqual({
      jobId: 'j1',
      lengthSec: 8,
      resolution: '720p',
      tier: 'standard',
      provider: 'auto',
      feature: { audio: true },
    });
    expect(content).toEqual({
      userId: 'user-1',
      prompt: 'corgi surfing',
      feature: { audio: true, voice: 'alto' },
      callbackUrl: 'https://example.test/cb',
    });
    expect(joinJob(facts, content)).toEqual(job);
    expect(userIdOf(content)).toBe('user-1');
  });

  it('given a job of facts only, when split, then there is no content', () => {
    expect(splitJob({ jobId: 'j1', feature: { audio: false } })).toEqual({
      facts: { jobId: 'j1', feature: { audio: false } },
      content: null,
    });
    expect(userIdOf(null)).toBeNull();
  });

  it('given a raw detail that failed intake, when split, then only short scalar facts stay in clear and the whole detail is content', () => {
    const detail = {
      jobId: 'j1',
      lengthSec: -1,
      tier: 'x'.repeat(65),
      provider: true,
      prompt: 'p',
      userId: 'u',
    };
    expect(splitRawDetail(detail)).toEqual({
      facts: { jobId: 'j1', lengthSec: -1, provider: true },
      content: { detail },
    });
    expect(userIdOf({ detail })).toBe('u');
    expect(splitRawDetail(7)).toEqual({ facts: {}, content: { detail: 7 } });
    expect(splitRawDetail(undefined)).toEqual({ facts: {}, content: null });
    expect(userIdOf({ detail: { userId: 'x'.repeat(257) } })).toBeNull();
  });

  it('given a sealed record, when its routing input is read for what-if, then stand-ins replace the sealed user id and prompt', () => {
    expect(routingInputOf({ job: '{"jobId":"j1","lengthSec":8}', content: {} })).toEqual({
      userId: 'content-withheld',
      prompt: 'content withheld',
      jobId: 'j1',
      lengthSec: 8,
    });
    expect(routingInputOf({ job: '{"jobId":"j1","userId":"u"}' })).toEqual({ jobId: 'j1', userId: 'u' });
  });
});

describe('sealing content under a transit key', () => {
  const binding = { stream: 'job#j1', version: 1, job: '{"jobId":"j1"}' };

  it('given a key, when content is sealed and opened with the same key and record, then it comes back, and each seal draws a fresh IV', () => {
    const sealed = sealContent({ prompt: 'corgi' }, aKey(), binding);
    expect(sealed.keyId).toBe('transit#2026-11-25T10#i1');
    expect(sealed.iv).toHaveLength(12);
    expect(Buffer.from(sealed.data).toString()).not.toContain('corgi');
    expect(openSealedContent(sealed, aKey(), binding)).toEqual({ prompt: 'corgi' });
    const again = sealContent({ prompt: 'corgi' }, aKey(), binding);
    expect(Buffer.from(again.iv)).not.toEqual(Buffer.from(sealed.iv));
    expect(Buffer.from(again.data)).not.toEqual(Buffer.from(sealed.data));
  });

  it('given sealed content, when opened with another key, then it is a ContentSealError naming no content', () => {
    const sealed = sealContent({ prompt: 'corgi' }, aKey(), binding);
    expect(() => openSealedContent(sealed, aKey('transit#2026-11-25T10#i1', 2), binding)).toThrow(
      ContentSealError,
    );
  });

  it.each([
    ['another stream', { ...binding, stream: 'job#j2' }],
    ['another version of the same job', { ...binding, version: 2 }],
    ['other facts', { ...binding, job: '{"jobId":"j1","lengthSec":9}' }],
  ])('given a blob moved onto %s, when opened, then it does not open', (_, moved) => {
    const sealed = sealContent({ prompt: 'corgi' }, aKey(), binding);
    expect(() => openSealedContent(sealed, aKey(), moved)).toThrow(/does not open/);
  });

  it('given a blob whose key id was rewritten to another key with the same bytes, when opened, then it does not open', () => {
    const sealed = sealContent({ prompt: 'corgi' }, aKey(), binding);
    expect(() => openSealedContent(sealed, aKey('transit#2026-11-25T10#i2'), binding)).toThrow(
      ContentSealError,
    );
  });

  it('given a legacy key (stored in clear before envelope encryption), then its records open with the stream as the only binding', () => {
    const legacy = { ...aKey('transit#2026-11-25T10'), format: 'legacy' as const };
    const sealed = sealContent({ prompt: 'corgi' }, legacy, binding);
    expect(openSealedContent(sealed, legacy, { ...binding, version: 7 })).toEqual({ prompt: 'corgi' });
    expect(() => openSealedContent(sealed, legacy, { ...binding, stream: 'job#j2' })).toThrow(
      ContentSealError,
    );
  });

  it('given a time and a container, then its transit key is named by the UTC hour and the container, and expires 48 h after the hour ends', () => {
    expect(transitKeyOf(new Date('2026-11-25T10:59:59Z'), 'abc')).toEqual({
      keyId: 'transit#2026-11-25T10#abc',
      expiresAt: Date.parse('2026-11-27T11:00:00Z') / 1000,
    });
  });
});

describe('the content key ring (envelope encryption)', () => {
  it('given several jobs in one hour, when sealing, then one data key is generated, only its wrapped form is stored, and it is cached', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    const ring = contentKeyRing(vault, keys);
    const first = await ring.sealingKey(AT);
    for (let i = 0; i < 50; i++)
      expect(await ring.sealingKey(new Date(AT.getTime() + i * 60_000))).toBe(first);
    expect(keys.calls.generateDataKey).toBe(1);
    await ring.sealingKey(new Date('2026-11-25T11:00:00Z'));
    expect([...vault.keys.keys()]).toEqual(['transit#2026-11-25T10#i1', 'transit#2026-11-25T11#i1']);
    const stored = vault.keys.get('transit#2026-11-25T10#i1');
    expect(stored).toMatchObject({ kind: 'wrapped', expiresAt: first.expiresAt });
    expect(JSON.stringify(stored)).not.toContain(first.key.toString('base64'));
    expect(Buffer.from((stored as { wrapped: Uint8Array }).wrapped).includes(first.key)).toBe(false);
  });

  it('given two containers in one hour, then each seals under its own key and neither needs the other to unwrap', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    const a = await contentKeyRing(vault, keys, 'a').sealingKey(AT);
    const b = await contentKeyRing(vault, keys, 'b').sealingKey(AT);
    expect(a.keyId).not.toBe(b.keyId);
    expect(keys.calls.decrypt).toBe(0);
  });

  it('given wrapped keys asked for opening, then they are unwrapped once, missing and expired ones are absent, found ones cached', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    const sealing = await contentKeyRing(vault, keys, 'router').sealingKey(AT);
    const ring = contentKeyRing(vault, keys, 'projector');
    const found = await ring.openingKeys([sealing.keyId, sealing.keyId, 'transit#2020-01-01T00#x'], AT);
    expect([...found.keys()]).toEqual([sealing.keyId]);
    expect(found.get(sealing.keyId)?.key).toEqual(sealing.key);
    vault.keys.clear();
    expect((await ring.openingKeys([sealing.keyId], AT)).size).toBe(1);
    expect(keys.calls.decrypt).toBe(1);
    const late = new Date((sealing.expiresAt + 1) * 1000);
    expect((await ring.openingKeys([sealing.keyId], late)).size).toBe(0);
  });

  it('given a wrapped key of another stage (another encryption context), when opened, then the key service refuses it', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    const sealing = await new ContentKeyRing(vault, keys, { stage: 'prod' }).sealingKey(AT);
    await expect(
      new ContentKeyRing(vault, keys, { stage: 'dev' }).openingKeys([sealing.keyId], AT),
    ).rejects.toThrow();
  });

  it('given a legacy key item in clear (before envelope encryption), then it still opens until it expires, with no key-service call', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    vault.keys.set('transit#2026-11-25T10', { kind: 'legacy', ...aKey('transit#2026-11-25T10') });
    const found = await contentKeyRing(vault, keys).openingKeys(['transit#2026-11-25T10'], AT);
    expect(found.get('transit#2026-11-25T10')).toMatchObject({ format: 'legacy', key: Buffer.alloc(32, 1) });
    expect(keys.calls.decrypt).toBe(0);
  });
});

describe('protecting a decision record', () => {
  it('given a routed record, when protected and opened again, then the log copy holds no content and the opened one the whole job', () => {
    const record = aRoutedRecord({ jobId: 'j1', prompt: 'corgi surfing' });
    const protectedRecord = protectRecord(record, splitJob(JSON.parse(record.data.job)), aKey());
    expect(JSON.stringify(protectedRecord)).not.toMatch(/corgi|user-123/);
    const opened = withContent(
      protectedRecord,
      openSealedContent(protectedRecord.data.content as never, aKey(), sealBindingOf(protectedRecord)),
    );
    expect(JSON.parse(opened.data.job)).toEqual(JSON.parse(record.data.job));
    expect(opened.data).not.toHaveProperty('content');
  });

  it('given a record, when printed by the CLI, then sealed content is left out, also from a replay copy', () => {
    const record = protectRecord(aRoutedRecord(), splitJob({ userId: 'u' }), aKey());
    expect(withoutSealedContent(record).data).not.toHaveProperty('content');
    const replay = withoutSealedContent(aReplayOf(record));
    expect(replay.type === 'ProjectionReplayRequested' && replay.data.decision.data).not.toHaveProperty(
      'content',
    );
    const erased = { type: 'ContentErased' } as ContentErasedRecord;
    expect(withoutSealedContent(erased)).toBe(erased);
  });
});

describe('where a job content stands', () => {
  const sealed = protectRecord(aRoutedRecord(), splitJob({ userId: 'u' }), aKey());
  const item = {
    id: sealed.metadata.stream,
    userId: 'u',
    recordedAt: RECORDED_AT,
    content: '{}',
    expiresAt: 2e9,
  };
  const erased = { type: 'ContentErased', metadata: { version: 2 } } as ContentErasedRecord;

  it.each([
    ['erased', [sealed, erased], item, true],
    ['retained', [sealed], item, false],
    ['in_transit', [sealed], undefined, true],
    ['expired', [sealed], { ...item, expiresAt: 1 }, false],
    ['none', [aRoutedRecord()], undefined, false],
    ['none', [], undefined, false],
  ] as const)('%s', (status, stream, retained, keyAlive) => {
    expect(contentStatusOf(jobStateOf(stream), retained, keyAlive, AT)).toBe(status);
  });
});
