/**
 * The contract every ContentVault must pass (in-memory twin in unit tests, DynamoDB in integration
 * tests): a wrapped key reads back as stored (never overwritten), the first hash seed created under
 * an id wins, retained content reads back and is found per user, erasure wins over retention, and
 * retaining new content never overwrites an item — it answers with the one there instead.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type {
  ContentVault,
  HashSeed,
  RetainedContent,
  WrappedContentKey,
} from '../../src/ports/content-vault.ts';

const aKey = (keyId: string): WrappedContentKey => ({
  keyId,
  wrapped: new Uint8Array(randomBytes(48)),
  expiresAt: 1_900_000_000,
});
const aSeed = (id: string): HashSeed => ({
  id,
  seed: new Uint8Array(randomBytes(32)),
  expiresAt: 1_900_000_000,
});

const retained = (userId: string | null, overrides: Partial<RetainedContent> = {}): RetainedContent => ({
  id: `job#${randomUUID()}`,
  userId,
  recordedAt: '2026-11-25T10:00:01.000Z',
  content: JSON.stringify({ userId, prompt: 'corgi surfing' }),
  expiresAt: 1_900_000_000,
  ...overrides,
});

export function contentVaultContract(name: string, createVault: () => Promise<ContentVault> | ContentVault) {
  describe(`${name} honours the content vault contract`, () => {
    it('given a wrapped key created under an id, when read, then the wrapped bytes come back and a second create of the id fails', async () => {
      const vault = await createVault();
      const keyId = `transit#${randomUUID()}`;
      const first = aKey(keyId);
      await vault.createKey(first);
      await expect(vault.createKey(aKey(keyId))).rejects.toThrow();
      expect(await vault.readKeys([keyId, `transit#${randomUUID()}`])).toEqual([
        { kind: 'wrapped', ...first },
      ]);
    });

    it('given a hash seed created under an id, when another container creates one under the same id, then both get the first', async () => {
      const vault = await createVault();
      const id = `hash#${randomUUID()}`;
      const first = aSeed(id);
      expect(await vault.createSeed(first)).toEqual(first);
      expect(await vault.createSeed(aSeed(id))).toEqual(first);
      expect(await vault.readSeed(id)).toEqual(first);
      expect(await vault.readSeed(`hash#${randomUUID()}`)).toBeNull();
    });

    it('given retained content, when read by id, then exactly the stored items come back', async () => {
      const vault = await createVault();
      const [a, b] = [retained(`user-${randomUUID()}`), retained(null)];
      await vault.write({ retain: [a, b], erase: [] });
      const found = await vault.read([a.id, b.id, `job#${randomUUID()}`]);
      expect([...found.keys()].sort()).toEqual([a.id, b.id].sort());
      expect(found.get(a.id)).toEqual(a);
      expect(found.get(b.id)).toEqual(b);
    });

    it("given a user's content among others', when their ids are asked, then only theirs are listed", async () => {
      const vault = await createVault();
      const user = `user-${randomUUID()}`;
      const mine = [retained(user), retained(user)];
      await vault.write({ retain: [...mine, retained(`user-${randomUUID()}`), retained(null)], erase: [] });
      expect((await vault.idsOfUser(user)).sort()).toEqual(mine.map((item) => item.id).sort());
    });

    it("given a user's content spread among many others' (across scan pages), when their ids are asked, then every one of theirs is listed once, at once", async () => {
      const vault = await createVault();
      const user = `user-${randomUUID()}`;
      const mine = Array.from({ length: 7 }, () => retained(user));
      const others = Array.from({ length: 11 }, () => retained(`user-${randomUUID()}`));
      await vault.write({ retain: [...others.slice(0, 5), ...mine, ...others.slice(5)], erase: [] });
      const ids = await vault.idsOfUser(user);
      expect(ids.sort()).toEqual(mine.map((item) => item.id).sort());
      expect(await vault.idsOfUser(`user-${randomUUID()}`)).toEqual([]);
    });

    it('given an id both retained and erased in one write, then it is erased; an erased item reads back as its marker only, found for nobody', async () => {
      const vault = await createVault();
      const user = `user-${randomUUID()}`;
      const [kept, erased, both] = [retained(user), retained(user), retained(user)];
      await vault.write({ retain: [kept, erased], erase: [] });
      await vault.write({ retain: [both], erase: [erased.id, both.id] });
      const found = await vault.read([kept.id, erased.id, both.id]);
      expect(found.get(kept.id)).toEqual(kept);
      expect(found.get(erased.id)).toEqual({ id: erased.id, erased: true });
      expect(found.get(both.id)).toEqual({ id: both.id, erased: true });
      expect(await vault.idsOfUser(user)).toEqual([kept.id]);
    });

    it('given no item under an id, when content is retained new, then it is stored; retained new again (a redelivery), then the first item is answered and left as it was', async () => {
      const vault = await createVault();
      const first = retained(`user-${randomUUID()}`);
      expect(await vault.retainNew([first])).toEqual(new Map([[first.id, { kind: 'retained' }]]));
      const again = { ...first, content: JSON.stringify({ prompt: 'something else' }) };
      expect(await vault.retainNew([again])).toEqual(
        new Map([[first.id, { kind: 'existing', item: first }]]),
      );
      expect((await vault.read([first.id])).get(first.id)).toEqual(first);
    });

    it("given a job's erasure marker, when its content is retained new, then the marker is answered and stays, and the user's ids list nothing", async () => {
      const vault = await createVault();
      const user = `user-${randomUUID()}`;
      const item = retained(user);
      await vault.write({ retain: [], erase: [item.id] });
      const marker = { id: item.id, erased: true };
      expect(await vault.retainNew([item])).toEqual(new Map([[item.id, { kind: 'existing', item: marker }]]));
      expect((await vault.read([item.id])).get(item.id)).toEqual(marker);
      expect(await vault.idsOfUser(user)).toEqual([]);
    });

    it('given more items than one call takes, some ids twice and some already stored, when retained new, then every id is answered once and stored once', async () => {
      const vault = await createVault();
      const user = `user-${randomUUID()}`;
      const items = Array.from({ length: 30 }, () => retained(user));
      const stored = items.slice(0, 3);
      await vault.retainNew(stored);
      const outcomes = await vault.retainNew([...items, ...items.slice(10, 14)]);
      expect(outcomes.size).toBe(30);
      for (const item of items)
        expect(outcomes.get(item.id)).toEqual(
          stored.includes(item) ? { kind: 'existing', item } : { kind: 'retained' },
        );
      expect((await vault.idsOfUser(user)).sort()).toEqual(items.map((item) => item.id).sort());
    });

    it('given content of 300 KB, when retained new, then it reads back whole', async () => {
      const vault = await createVault();
      const large = retained(null, { content: JSON.stringify({ extra: 'x'.repeat(300_000) }) });
      expect((await vault.retainNew([large])).get(large.id)).toEqual({ kind: 'retained' });
      expect((await vault.read([large.id])).get(large.id)).toEqual(large);
    });
  });
}
