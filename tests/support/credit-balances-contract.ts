/**
 * The contract every CreditBalances implementation must pass (in-memory twin in unit tests, DynamoDB
 * in integration tests): a balance reads back as stored, a missing record is null, never 0.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CreditBalances } from '../../src/ports/credit-balances.ts';

export function creditBalancesContract(
  name: string,
  withBalances: (balances: Record<string, number>) => Promise<CreditBalances> | CreditBalances,
) {
  describe(`${name} honours the credit balances contract`, () => {
    it('given stored balances, when read, then each user gets their own, fractions and zero included', async () => {
      const [rich, broke, cents] = [randomUUID(), randomUUID(), randomUUID()];
      const credits = await withBalances({ [rich]: 120, [broke]: 0, [cents]: 12.5 });
      expect(await credits.balanceOf(rich)).toBe(120);
      expect(await credits.balanceOf(broke)).toBe(0);
      expect(await credits.balanceOf(cents)).toBe(12.5);
    });

    it('given no record for a user, when read, then the balance is null (no credit record), not 0', async () => {
      const credits = await withBalances({});
      expect(await credits.balanceOf(`never-${randomUUID()}`)).toBeNull();
    });
  });
}
