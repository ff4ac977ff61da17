/** Reading the submissions `npm run local` feeds the router: files, directories, arrays, envelopes. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  asSubmittedEvent,
  EventFileError,
  isOtherEventKind,
  loadSubmittedEvents,
  originName,
} from '../../src/cli/submitted-events.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

afterAll(removeEventDirectories);

const defaults = {
  newId: () => 'generated-id',
  now: () => new Date('2026-11-25T10:00:00.123Z'),
};

describe('wrapping a sample into the event EventBridge delivers', () => {
  it('given a bare detail, when wrapped, then it gets the submission envelope with a generated id and a second-precision time', () => {
    const detail = aSubmissionDetail();
    expect(asSubmittedEvent(detail, defaults)).toEqual({
      version: '0',
      id: 'generated-id',
      'detail-type': 'video.job.submitted',
      source: 'frontend.api',
      account: '000000000000',
      time: '2026-11-25T10:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail,
    });
  });

  it('given a region, when a bare detail is wrapped, then the envelope carries it', () => {
    expect(asSubmittedEvent(aSubmissionDetail(), { ...defaults, region: 'eu-west-1' }).region).toBe(
      'eu-west-1',
    );
  });

  it.each([
    ['detail and detail-type', { 'detail-type': 'video.job.submitted', detail: {} }],
    ['detail and source', { source: 'frontend.api', detail: {} }],
  ])('given an envelope with %s, when wrapped, then it is used as it is', (_, envelope) => {
    expect(asSubmittedEvent(envelope, defaults)).toBe(envelope);
  });

  it('given an object with a detail but neither source nor detail-type, when wrapped, then it is taken as a detail', () => {
    const odd = { detail: { jobId: 'j' } };
    expect(asSubmittedEvent(odd, defaults).detail).toBe(odd);
  });

  it.each([
    ['a stream batch', { Records: [] }, true],
    ['a scheduled event', { source: 'aws.events', detail: {} }, true],
    ['a submission', aSubmittedEvent(), false],
    ['an array', [{ Records: [] }], false],
    ['null', null, false],
  ])('given %s, when classified, then it is another kind of sample: %s', (_, value, other) => {
    expect(isOtherEventKind(value)).toBe(other);
  });
});

describe('loading submissions from paths', () => {
  it('given files and directories, when loaded, then events come path by path, directories in file-name order', async () => {
    const first = await anEventDirectory({ 'only.json': aSubmissionDetail({ jobId: 'job-0' }) });
    const second = await anEventDirectory({
      'b.json': aSubmittedEvent(aSubmissionDetail({ jobId: 'job-2' })),
      'a.json': aSubmissionDetail({ jobId: 'job-1' }),
      'readme.md': '# not JSON, not read',
    });
    const inputs = await loadSubmittedEvents([join(first, 'only.json'), second], defaults);
    expect(inputs.map((input) => input.origin)).toEqual([
      join(first, 'only.json'),
      join(second, 'a.json'),
      join(second, 'b.json'),
    ]);
    expect(inputs.map((input) => (input.event.detail as { jobId: string }).jobId)).toEqual([
      'job-0',
      'job-1',
      'job-2',
    ]);
  });

  it('given a prefix, when a directory is loaded, then only files starting with it are read', async () => {
    const directory = await anEventDirectory({
      'submitted-a.json': aSubmissionDetail(),
      'other.json': '{ broken',
    });
    const inputs = await loadSubmittedEvents([directory], { ...defaults, onlyPrefix: 'submitted-' });
    expect(inputs.map((input) => originName(input.origin))).toEqual(['submitted-a.json']);
  });

  it('given an array of details and envelopes, when loaded, then each element is one input named by its index', async () => {
    const directory = await anEventDirectory({
      'batch.json': [
        aSubmissionDetail({ jobId: 'job-a' }),
        aSubmittedEvent(aSubmissionDetail({ jobId: 'job-b' })),
      ],
    });
    const file = join(directory, 'batch.json');
    const inputs = await loadSubmittedEvents([file], defaults);
    expect(inputs.map((input) => input.origin)).toEqual([`${file}[0]`, `${file}[1]`]);
    expect(inputs[0]?.event.id).toBe('generated-id');
    expect(inputs[1]?.event.id).not.toBe('generated-id');
  });

  it('given other event kinds in a directory, when loaded, then they are skipped and reported', async () => {
    const directory = await anEventDirectory({
      'a-stream.json': { Records: [] },
      'b.json': aSubmissionDetail(),
    });
    const skipped: string[] = [];
    const inputs = await loadSubmittedEvents([directory], {
      ...defaults,
      onSkip: (path) => skipped.push(path),
    });
    expect(inputs.map((input) => originName(input.origin))).toEqual(['b.json']);
    expect(skipped).toEqual([join(directory, 'a-stream.json')]);
  });

  it('given another event kind named as a file, when loaded, then it is used as it is (the caller asked for it)', async () => {
    const directory = await anEventDirectory({ 'stream.json': { Records: [] } });
    const inputs = await loadSubmittedEvents([join(directory, 'stream.json')], defaults);
    expect(inputs).toHaveLength(1);
    expect(inputs[0]?.event.detail).toEqual({ Records: [] });
  });

  it('given a skipped sample and no onSkip, when loaded, then it is skipped silently', async () => {
    const directory = await anEventDirectory({ 'stream.json': { Records: [] } });
    expect(await loadSubmittedEvents([directory], defaults)).toEqual([]);
  });
});

describe('unreadable submissions', () => {
  it('given a path that does not exist, when loaded, then an EventFileError names it', async () => {
    const error = await loadSubmittedEvents(['/no/such/events'], defaults).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventFileError);
    expect(error).toMatchObject({
      name: 'EventFileError',
      path: '/no/such/events',
      message: '/no/such/events: no such file or directory',
    });
  });

  it('given a file that is not JSON, when loaded, then the error names the file and the parse failure', async () => {
    const directory = await anEventDirectory({ 'broken.json': '{"jobId": ' });
    const file = join(directory, 'broken.json');
    const error = await loadSubmittedEvents([file], defaults).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventFileError);
    expect(error).toMatchObject({ path: file, message: `${file}:1:11: not JSON: value expected` });
  });

  it('given a *.json entry that cannot be read (a directory), when its directory is loaded, then the error names it', async () => {
    const directory = await anEventDirectory();
    await mkdir(join(directory, 'nested.json'));
    const error = await loadSubmittedEvents([directory], defaults).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventFileError);
    expect(error).toMatchObject({
      path: join(directory, 'nested.json'),
      message: expect.stringMatching(/EISDIR/),
    });
  });
});

describe('origin names', () => {
  it('given an origin, when named, then it is the file name with any array index', () => {
    expect(originName('/a/b/submitted-fal.json')).toBe('submitted-fal.json');
    expect(originName('/a/b/batch.json[3]')).toBe('batch.json[3]');
  });
});
