/**
 * The contract every RulesLog implementation must pass (in-memory in unit tests, DynamoDB in
 * integration tests): appendToStream after an expected version (a taken one throws
 * VersionConflictError), the latest record, ordered reads.
 */
import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/errors.ts';
import type { RulesLog } from '../../src/ports/rules-log.ts';
import { aTableRoutingAutoTo, publish, rulesRecordsOf } from './rules.ts';

export function rulesLogContract(name: string, createLog: () => Promise<RulesLog> | RulesLog) {
  describe(`${name} honours the rules log contract`, () => {
    it('given no rules record, when read, then there is no latest and the history is empty', async () => {
      const log = await createLog();
      expect(await log.latest()).toBeNull();
      expect(await log.readAll()).toEqual([]);
    });

    it('given two publications, when read, then the latest is the second and the history is in version order', async () => {
      const log = await createLog();
      const [first, second] = rulesRecordsOf([
        publish(aTableRoutingAutoTo('replicate')),
        publish(aTableRoutingAutoTo('fal', 'back-to-fal')),
      ]);
      expect(await log.appendToStream([first, second] as never, { expectedVersion: 0 })).toBe(2);
      const all = await log.readAll();
      expect(all.map((record) => record.version)).toEqual([1, 2]);
      expect(all[1]).toMatchObject({ action: 'publish', subject: second?.subject, active: second?.active });
      expect((await log.latest())?.version).toBe(2);
    });

    it('given a version already taken, when another record claims it, then a VersionConflictError is thrown and the first stands', async () => {
      const log = await createLog();
      const [first] = rulesRecordsOf([publish(aTableRoutingAutoTo('replicate'))]);
      const [rival] = rulesRecordsOf([publish(aTableRoutingAutoTo('fal', 'rival'))]);
      expect(await log.appendToStream([first] as never, { expectedVersion: 0 })).toBe(1);
      await expect(log.appendToStream([rival] as never, { expectedVersion: 0 })).rejects.toThrow(
        VersionConflictError,
      );
      expect((await log.latest())?.subject).toBe(first?.subject);
    });
  });
}
