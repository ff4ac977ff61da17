import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { erasureIdOf } from '../../src/commands/forget-plan.ts';
import { forgetUser } from '../../src/commands/forget-user.ts';
import { VersionConflictError } from '../../src/errors.ts';
import { RECORD_SCHEMA_VERSION } from '../../src/log/routing-records.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryRoutingLog } from '../../src/memory/in-memory-routing-log.ts';
import type { RoutingLog } from '../../src/ports/routing-log.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { appendRecord } from '../support/log-appends.ts';
import { aRoutedRecord, RECORDED_AT } from '../support/records.ts';

/** Items still holding content (an erased job keeps only its erasure marker). */
const retainedIn = (vault: InMemoryContentVault) =>
  [...vault.items.values()].filter((item) => !('erased' in item)).length;

const NOW = new Date('2026-11-26T09:00:00.000Z');

async function given(userJobs: number) {
  const log = new InMemoryRoutingLog();
  const content = new InMemoryContentVault();
  const records = Array.from({ length: userJobs }, () => aRoutedRecord());
  for (const record of records) {
    await appendRecord(log, record);
    await content.write({
      retain: [
        {
          id: record.stream,
          userId: 'u1',
          recordedAt: RECORDED_AT,
          content: '{"userId":"u1"}',
          expiresAt: 2e9,
        },
      ],
      erase: [],
    });
  }
  const forget = (overrides: { dryRun?: boolean; log?: RoutingLog } = {}) =>
    forgetUser(
      {
        type: 'ForgetUser',
        data: { userId: 'u1', why: 'ticket 12', requestedBy: 'dpo', dryRun: overrides.dryRun ?? false },
      },
      { log: overrides.log ?? log, content, now: () => NOW },
    );
  return { log, content, records, forget };
}

describe('ForgetUser', () => {
  it('given a user with two jobs, when forgotten, then each stream records ContentErased and the content is deleted', async () => {
    const { log, content, records, forget } = await given(2);
    const summary = await forget();
    expect(summary).toMatchObject({ erasureId: erasureIdOf('ticket 12'), found: 2, erased: 2, failed: 0 });
    for (const record of records) {
      expect((await log.readStream(record.stream))[1]).toEqual({
        stream: record.stream,
        version: 2,
        schemaVersion: RECORD_SCHEMA_VERSION,
        jobId: record.jobId,
        recordedAt: NOW.toISOString(),
        type: 'ContentErased',
        erasureId: erasureIdOf('ticket 12'),
        requestedBy: 'dpo',
        why: 'ticket 12',
      });
    }
    expect(retainedIn(content)).toBe(0);
    expect([...content.items.values()].every((item) => 'erased' in item)).toBe(true);
  });

  it('given a dry run, then nothing is appended or deleted, and the versions it would append are named', async () => {
    const { log, content, records, forget } = await given(1);
    expect(await forget({ dryRun: true })).toMatchObject({
      wouldErase: 1,
      jobs: [{ action: 'would_erase', version: 2 }],
    });
    expect(await log.readStream(records[0]?.stream as string)).toHaveLength(1);
    expect(content.items.size).toBe(1);
  });

  it('given an erasure interrupted after its record, when run again, then nothing is recorded twice and the content goes', async () => {
    const { log, content, records, forget } = await given(1);
    const failingDelete = { ...content, write: async () => Promise.reject(new Error('throttled')) };
    await expect(
      forgetUser(
        { type: 'ForgetUser', data: { userId: 'u1', why: 'ticket 12', requestedBy: 'dpo', dryRun: false } },
        {
          log,
          content: {
            ...failingDelete,
            idsOfUser: content.idsOfUser.bind(content),
            read: content.read.bind(content),
            retainNew: content.retainNew.bind(content),
          },
          now: () => NOW,
        },
      ),
    ).rejects.toThrow('throttled');
    expect(await forget()).toMatchObject({ alreadyErased: 1, erased: 0 });
    expect(await log.readStream(records[0]?.stream as string)).toHaveLength(2);
    expect(retainedIn(content)).toBe(0);
  });

  it('given content whose stream holds no decision, when forgotten, then the content is erased with nothing to record', async () => {
    const content = new InMemoryContentVault();
    await content.write({
      retain: [{ id: 'job#gone', userId: 'u1', recordedAt: RECORDED_AT, content: '{}', expiresAt: 2e9 }],
      erase: [],
    });
    const summary = await forgetUser(
      { type: 'ForgetUser', data: { userId: 'u1', why: 'w', requestedBy: 'dpo', dryRun: false } },
      { log: new InMemoryRoutingLog(), content, now: () => NOW },
    );
    expect(summary.jobs).toEqual([{ stream: 'job#gone', action: 'no_decision', version: null }]);
    expect(retainedIn(content)).toBe(0);
  });

  it('given a log that always loses the append race or fails, then those jobs are reported and their content is kept', async () => {
    const { log, content, records, forget } = await given(2);
    const racing: RoutingLog = {
      readStream: async (stream) => {
        if (stream === records[1]?.stream) throw new Error('boom');
        return log.readStream(stream);
      },
      appendToStream: async (stream, records) => {
        throw new VersionConflictError(stream, records[0]?.version ?? 1, { existing: records[0] });
      },
    };
    const summary = await forget({ log: racing });
    expect(summary.failed).toBe(2);
    expect(summary.jobs.map((job) => job.action).sort()).toEqual(['contended', 'failed']);
    expect(summary.jobs.find((job) => job.action === 'failed')?.error).toBe('Error');
    expect(content.items.size).toBe(2);
  });
});

describe('routing-manager forget', () => {
  const run = async (...argv: string[]) => {
    const stdout = aCapturedOutput();
    const stderr = aCapturedOutput();
    const code = await runCli(argv, {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: { AWS_REGION: 'eu-west-1' },
    });
    return { code, stderr: stderr.text() };
  };

  it('given no --why, then it is a usage error and nothing is touched', async () => {
    expect(await run('forget', '--user', 'u1')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--why is required/),
    });
    expect(await run('forget', '--user', ' ', '--why', 'x')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--user/),
    });
    expect((await run('forget', '--why', 'x')).code).toBe(2);
  });
});
