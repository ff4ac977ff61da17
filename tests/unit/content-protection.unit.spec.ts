import { describe, expect, it } from 'vitest';
import { ContentKeyRing } from '../../src/content/content-key-ring.ts';
import {
  joinJob,
  routingInputOf,
  splitJob,
  splitRawDetail,
  userIdOf,
} from '../../src/content/job-content.ts';
import { protectRecord, withContent } from '../../src/content/protect-record.ts';
import {
  ContentSealError,
  openSealedContent,
  sealContent,
  transitKeyOf,
} from '../../src/content/sealed-content.ts';
import { jobStateOf } from '../../src/log/job-state.ts';
import type { ContentErasedRecord } from '../../src/log/routing-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { contentStatusOf, withoutSealedContent } from '../../src/queries/content-status.ts';
import { aReplayOf, aRoutedRecord, RECORDED_AT } from '../support/records.ts';

const AT = new Date(RECORDED_AT);
const aKey = (keyId = 'transit#2026-11-25T10', fill = 1) => ({
  keyId,
  key: Buffer.alloc(32, fill),
  expiresAt: transitKeyOf(AT).expiresAt,
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
  const binding = { stream: 'job#j1', payloadHash: 'abc' };

  it('given a key, when content is sealed and opened with the same key and stream, then it comes back, and sealing again gives the same bytes', () => {
    const sealed = sealContent({ prompt: 'corgi' }, aKey(), binding);
    expect(sealed.keyId).toBe('transit#2026-11-25T10');
    expect(sealed.data).not.toContain('corgi');
    expect(openSealedContent(sealed, aKey(), 'job#j1')).toEqual({ prompt: 'corgi' });
    expect(sealContent({ prompt: 'corgi' }, aKey(), binding)).toEqual(sealed);
  });

  it('given sealed content, when opened with another key or for another stream, then it is a ContentSealError naming no content', () => {
    const sealed = sealContent({ prompt: 'corgi' }, aKey(), binding);
    expect(() => openSealedContent(sealed, aKey('transit#2026-11-25T10', 2), 'job#j1')).toThrow(
      ContentSealError,
    );
    expect(() => openSealedContent(sealed, aKey(), 'job#j2')).toThrow(/does not open/);
  });

  it('given a time, then its transit key is named by the UTC hour and expires 48 h after the hour ends', () => {
    expect(transitKeyOf(new Date('2026-11-25T10:59:59Z'))).toEqual({
      keyId: 'transit#2026-11-25T10',
      expiresAt: Date.parse('2026-11-27T11:00:00Z') / 1000,
    });
  });
});

describe('the content key ring', () => {
  it('given several jobs in one hour, when sealing, then the key is created once and cached', async () => {
    const vault = new InMemoryContentVault();
    let created = 0;
    const ring = new ContentKeyRing(vault, () => {
      created++;
      return Buffer.alloc(32, created);
    });
    const first = await ring.sealingKey(AT);
    expect(await ring.sealingKey(new Date(AT.getTime() + 60_000))).toBe(first);
    expect(created).toBe(1);
    await ring.sealingKey(new Date('2026-11-25T11:00:00Z'));
    expect([...vault.keys.keys()]).toEqual(['transit#2026-11-25T10', 'transit#2026-11-25T11']);
  });

  it('given another container created the hour key first, when sealing, then its key is adopted', async () => {
    const vault = new InMemoryContentVault();
    const theirs = await new ContentKeyRing(vault, () => Buffer.alloc(32, 1)).sealingKey(AT);
    const mine = await new ContentKeyRing(vault, () => Buffer.alloc(32, 2)).sealingKey(AT);
    expect(mine.key).toEqual(theirs.key);
  });

  it('given keys asked for opening, then missing and expired ones are absent and found ones are cached', async () => {
    const vault = new InMemoryContentVault();
    await vault.createKey(aKey());
    const ring = new ContentKeyRing(vault);
    const found = await ring.openingKeys(['transit#2026-11-25T10', 'transit#2020-01-01T00'], AT);
    expect([...found.keys()]).toEqual(['transit#2026-11-25T10']);
    vault.keys.clear();
    expect((await ring.openingKeys(['transit#2026-11-25T10'], AT)).size).toBe(1);
    const late = new Date((transitKeyOf(AT).expiresAt + 1) * 1000);
    expect((await ring.openingKeys(['transit#2026-11-25T10'], late)).size).toBe(0);
  });
});

describe('protecting a decision record', () => {
  it('given a routed record, when protected and opened again, then the log copy holds no content and the opened one the whole job', () => {
    const record = aRoutedRecord({ jobId: 'j1', prompt: 'corgi surfing' });
    const protectedRecord = protectRecord(record, splitJob(JSON.parse(record.job)), aKey());
    expect(JSON.stringify(protectedRecord)).not.toMatch(/corgi|user-123/);
    const opened = withContent(
      protectedRecord,
      openSealedContent(protectedRecord.content as never, aKey(), 'job#j1'),
    );
    expect(JSON.parse(opened.job)).toEqual(JSON.parse(record.job));
    expect(opened).not.toHaveProperty('content');
  });

  it('given a record, when printed by the CLI, then sealed content is left out, also from a replay copy', () => {
    const record = protectRecord(aRoutedRecord(), splitJob({ userId: 'u' }), aKey());
    expect(withoutSealedContent(record)).not.toHaveProperty('content');
    const replay = withoutSealedContent(aReplayOf(record));
    expect(replay.type === 'ProjectionReplayRequested' && replay.decision).not.toHaveProperty('content');
    const erased = { type: 'ContentErased' } as ContentErasedRecord;
    expect(withoutSealedContent(erased)).toBe(erased);
  });
});

describe('where a job content stands', () => {
  const sealed = protectRecord(aRoutedRecord(), splitJob({ userId: 'u' }), aKey());
  const item = { id: sealed.stream, userId: 'u', recordedAt: RECORDED_AT, content: '{}', expiresAt: 2e9 };
  const erased = { type: 'ContentErased', version: 2 } as ContentErasedRecord;

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
