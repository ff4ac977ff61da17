import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type RouteJobDependencies, routeJob } from '../../src/commands/route-job.ts';
import { legacyPayloadHash } from '../../src/content/payload-hasher.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryCreditBalances } from '../../src/memory/in-memory-credit-balances.ts';
import { InMemoryKeyService } from '../../src/memory/in-memory-key-service.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { contentKeyRing, payloadHasher } from '../support/content.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

const AT = new Date('2026-11-25T10:00:01.000Z');
const LATER = new Date('2026-11-25T11:30:00.000Z');
const AFTER_SHREDDING = new Date('2026-11-28T00:00:00.000Z');

describe('keyed payload hashes', () => {
  it('given the same submission on two stacks, when hashed, then the stored hashes differ', async () => {
    const detail = aSubmissionDetail();
    const one = await payloadHasher(new InMemoryContentVault(), new InMemoryKeyService()).hash(detail, AT);
    const other = await payloadHasher(new InMemoryContentVault(), new InMemoryKeyService()).hash(detail, AT);
    expect(one).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    expect(other).not.toBe(one);
    expect(one).not.toContain(legacyPayloadHash(detail));
  });

  it('given two containers of one stack in one hour, then they hash alike, each with one MAC call for the hour', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    const a = payloadHasher(vault, keys);
    const b = payloadHasher(vault, keys);
    const detail = aSubmissionDetail();
    const hashes = [];
    for (let i = 0; i < 10; i++) hashes.push(await a.hash(detail, new Date(AT.getTime() + i * 1000)));
    hashes.push(await b.hash({ ...detail }, AT));
    expect(new Set(hashes).size).toBe(1);
    expect(keys.calls.mac).toBe(2);
    expect(vault.seeds.size).toBe(1);
    expect(await a.hash({ ...detail, prompt: 'other' }, AT)).not.toBe(hashes[0]);
    const reordered = Object.fromEntries(Object.entries(detail).reverse());
    expect(await a.hash(reordered, AT)).toBe(hashes[0]);
  });

  it('given a stored hash, then a submission is told same or different while the hour key lives, and not at all once its seed expired or is gone', async () => {
    const vault = new InMemoryContentVault();
    const hasher = payloadHasher(vault);
    const detail = aSubmissionDetail();
    const stored = { payloadHash: await hasher.hash(detail, AT), recordedAt: AT.toISOString() };
    const reader = payloadHasher(vault);
    expect(await reader.sameSubmission(stored, { ...detail }, LATER)).toBe(true);
    expect(await reader.sameSubmission(stored, { ...detail, prompt: 'x' }, LATER)).toBe(false);
    expect(await reader.sameSubmission(stored, detail, AFTER_SHREDDING)).toBeNull();
    vault.seeds.clear();
    expect(await payloadHasher(vault).sameSubmission(stored, detail, LATER)).toBeNull();
  });

  it('given a record written before keyed hashes (unkeyed sha256 of the canonical detail), then a redelivery is still compared', async () => {
    const detail = { b: 2, a: 1 };
    const stored = {
      payloadHash: createHash('sha256').update('{"a":1,"b":2}').digest('hex'),
      recordedAt: AT.toISOString(),
    };
    const hasher = payloadHasher(new InMemoryContentVault());
    expect(await hasher.sameSubmission(stored, detail, LATER)).toBe(true);
    expect(await hasher.sameSubmission(stored, { ...detail, a: 3 }, LATER)).toBe(false);
  });
});

describe('duplicates told apart by keyed hashes', () => {
  function router(vault: InMemoryContentVault, log: InMemoryRoutingLog, now: Date, instance: string) {
    const deps: RouteJobDependencies = {
      log,
      credits: new InMemoryCreditBalances(),
      table: defaultRoutingTable,
      contentKeys: contentKeyRing(vault, undefined, instance),
      payloadHashes: payloadHasher(vault),
      now: () => now,
      newId: () => 'id',
    };
    return (detail: unknown) =>
      routeJob({ type: 'RouteJob', data: { event: aSubmittedEvent(detail) } }, deps);
  }

  it('given a decision made by one container, when the same payload reaches another container an hour later, then it is a duplicate; another payload is a conflict', async () => {
    const [vault, log] = [new InMemoryContentVault(), new InMemoryRoutingLog()];
    const detail = aSubmissionDetail({ jobId: 'dup-1' });
    await router(vault, log, AT, 'a')(detail);
    const later = router(vault, log, LATER, 'b');
    expect((await later({ ...detail })).outcome).toBe('duplicate');
    expect((await later({ ...detail, prompt: 'a different prompt' })).outcome).toBe('conflicting_duplicate');
  });

  it('given the hour key shredded, when the job id comes again, then the routing facts decide: same facts a duplicate, other facts a conflict', async () => {
    const [vault, log] = [new InMemoryContentVault(), new InMemoryRoutingLog()];
    const detail = aSubmissionDetail({ jobId: 'dup-2' });
    await router(vault, log, AT, 'a')(detail);
    const late = router(vault, log, AFTER_SHREDDING, 'c');
    expect((await late({ ...detail, prompt: 'cannot be compared any more' })).outcome).toBe('duplicate');
    expect((await late({ ...detail, lengthSec: 9 })).outcome).toBe('conflicting_duplicate');
  });
});

describe('keys under concurrent invocations of one container', () => {
  it('given many jobs at once in a new hour, then one data key and one hash key are made, and every job seals and hashes', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    const ring = contentKeyRing(vault, keys, 'busy');
    const hasher = payloadHasher(vault, keys);
    const detail = aSubmissionDetail();
    const [sealing, hashes] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => ring.sealingKey(AT))),
      Promise.all(Array.from({ length: 8 }, () => hasher.hash(detail, AT))),
    ]);
    expect(new Set(sealing.map((key) => key.keyId)).size).toBe(1);
    expect(new Set(hashes).size).toBe(1);
    expect(keys.calls).toMatchObject({ generateDataKey: 1, mac: 1 });
  });

  it('given the key service failing once, then the next job tries again', async () => {
    const vault = new InMemoryContentVault();
    const keys = new InMemoryKeyService();
    const hasher = payloadHasher(vault, keys);
    const mac = keys.mac.bind(keys);
    keys.mac = async () => Promise.reject(new Error('KMS throttled'));
    await expect(hasher.hash({ a: 1 }, AT)).rejects.toThrow('KMS throttled');
    keys.mac = mac;
    expect(await hasher.hash({ a: 1 }, AT)).toMatch(/^k1:/);
  });
});
