/**
 * The contract every RulesLog implementation must pass (in-memory in unit tests, DynamoDB in
 * integration tests): appendToStream after an expected version (a taken one throws
 * VersionConflictError), the latest record, ordered reads, and records read back exactly as
 * appended. Each test keeps to a stream of its own, so a shared table needs no cleaning.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/errors.ts';
import { InvalidAppendError } from '../../src/log/routing-records.ts';
import type { RulesLog } from '../../src/ports/rules-log.ts';
import { aTableRoutingAutoTo, publish, rulesRecordsOf } from './rules.ts';

const aStream = () => `rules#contract-${randomUUID()}`;

export function rulesLogContract(name: string, createLog: () => Promise<RulesLog> | RulesLog) {
  describe(`${name} honours the rules log contract`, () => {
    it('given no rules record, when read, then there is no latest and the history is empty', async () => {
      const log = await createLog();
      const stream = aStream();
      expect(await log.latest(stream)).toBeNull();
      expect(await log.readStream(stream)).toEqual([]);
    });

    it('given two publications, when read, then the latest is the second and the history is in version order, as appended', async () => {
      const log = await createLog();
      const stream = aStream();
      const records = rulesRecordsOf(
        [publish(aTableRoutingAutoTo('replicate')), publish(aTableRoutingAutoTo('fal', 'back-to-fal'))],
        stream,
      );
      expect(await log.appendToStream(stream, records, { expectedVersion: 0 })).toBe(2);
      const all = await log.readStream(stream);
      expect(all.map((record) => record.metadata.version)).toEqual([1, 2]);
      expect(all).toEqual(records);
      expect((await log.latest(stream))?.metadata.version).toBe(2);
    });

    it('given a version already taken, when another record claims it, then a VersionConflictError is thrown and the first stands', async () => {
      const log = await createLog();
      const stream = aStream();
      const [first] = rulesRecordsOf([publish(aTableRoutingAutoTo('replicate'))], stream);
      const [rival] = rulesRecordsOf([publish(aTableRoutingAutoTo('fal', 'rival'))], stream);
      expect(await log.appendToStream(stream, [first] as never, { expectedVersion: 0 })).toBe(1);
      await expect(log.appendToStream(stream, [rival] as never, { expectedVersion: 0 })).rejects.toThrow(
        VersionConflictError,
      );
      expect((await log.latest(stream))?.data.subject).toBe(first?.data.subject);
    });

    it('given a record of another stream or version, when appended, then it is refused before anything is written', async () => {
      const log = await createLog();
      const stream = aStream();
      const [elsewhere] = rulesRecordsOf([publish(aTableRoutingAutoTo('replicate'))], aStream());
      await expect(log.appendToStream(stream, [elsewhere] as never, { expectedVersion: 0 })).rejects.toThrow(
        InvalidAppendError,
      );
      const [first] = rulesRecordsOf([publish(aTableRoutingAutoTo('replicate'))], stream);
      await expect(log.appendToStream(stream, [first] as never, { expectedVersion: 1 })).rejects.toThrow(
        InvalidAppendError,
      );
      expect(await log.readStream(stream)).toEqual([]);
    });
  });
}
