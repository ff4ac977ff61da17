/**
 * `npm run local`'s command line, in-process: arguments, which submissions it reads, what it prints
 * where, --keep, --credits and failures. The emulator pipeline is a stand-in here (see
 * tests/integration/local-main.int.spec.ts for the real one).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attachToProcess,
  type HostProcess,
  handlerLogEnvironment,
  type LocalIo,
  main,
  shellQuote,
} from '../../src/local/main.ts';
import { defaultRoutingTable } from '../../src/routing/default-table.ts';
import { aCapturedOutput } from '../support/captured-output.ts';
import { anEventDirectory, removeEventDirectories } from '../support/event-files.ts';
import {
  aFakePipeline,
  aLocalEventResult,
  aStoppableEmulators,
  type FakePipeline,
} from '../support/local-pipeline.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

afterAll(removeEventDirectories);

function aLocalCommand(pipeline: FakePipeline = aFakePipeline(), overrides: Partial<LocalIo> = {}) {
  const stdout = aCapturedOutput();
  const stderr = aCapturedOutput();
  const io: LocalIo = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    untilStopped: async () => undefined,
    runLocal: pipeline.runLocal,
    ...overrides,
  };
  const origins = () => pipeline.runs.flatMap((run) => run.inputs.map((input) => input.origin));
  return { run: (...argv: string[]) => main(argv, io), stdout, stderr, pipeline, origins };
}

describe('npm run local: arguments', () => {
  it.each([
    ['an unknown option', ['--colour']],
    ['--stage without a value', ['--stage']],
    ['--credits without a file', ['--credits']],
  ])('given %s, when run, then it exits 2 with a message on stderr and runs nothing', async (_, argv) => {
    const command = aLocalCommand();
    expect(await command.run(...argv)).toBe(2);
    expect(command.stderr.text()).toMatch(/error:/);
    expect(command.stdout.text()).toBe('');
    expect(command.pipeline.runs).toHaveLength(0);
  });

  it('given --help, when run, then the usage goes to stdout and it exits 0 without running', async () => {
    const command = aLocalCommand();
    expect(await command.run('--help')).toBe(0);
    expect(command.stdout.text()).toMatch(/Usage: local \[options\] \[paths\.\.\.\].*--credits <file>/s);
    expect(command.pipeline.runs).toHaveLength(0);
  });

  it('given no options, when run, then the stage is local and no credits are seeded', async () => {
    const command = aLocalCommand();
    expect(await command.run()).toBe(0);
    expect(command.pipeline.runs[0]).toMatchObject({ stage: 'local', credits: undefined });
  });

  it('given --stage, when run, then the pipeline provisions that stage', async () => {
    const command = aLocalCommand();
    expect(await command.run('--stage', 'mine')).toBe(0);
    expect(command.pipeline.runs[0]?.stage).toBe('mine');
  });
});

describe('npm run local: which submissions it reads', () => {
  it("given no paths, when run, then the project's submitted-* samples are routed in name order and nothing else", async () => {
    const command = aLocalCommand();
    expect(await command.run()).toBe(0);
    const names = command.origins().map((origin) => origin.split('/').pop() as string);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((name) => name.startsWith('submitted-') && name.endsWith('.json'))).toBe(true);
    expect(names).toEqual([...names].sort());
    expect(command.stderr.text()).not.toMatch(/skipped/);
  });

  it('given a directory, when run, then every JSON file in it is read in name order and other event kinds are skipped with a note', async () => {
    const directory = await anEventDirectory({
      'b.json': aSubmittedEvent(),
      'a.json': aSubmissionDetail(),
      'c-stream.json': { Records: [] },
      'd-schedule.json': { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
      'notes.txt': 'not an event',
    });
    const command = aLocalCommand();
    expect(await command.run(directory)).toBe(0);
    expect(command.origins()).toEqual([join(directory, 'a.json'), join(directory, 'b.json')]);
    expect(command.stderr.lines()).toEqual(
      expect.arrayContaining([
        `[local] skipped ${join(directory, 'c-stream.json')}: not a submission sample`,
        `[local] skipped ${join(directory, 'd-schedule.json')}: not a submission sample`,
      ]),
    );
  });

  it('given a file holding an array, when run, then each element is one submission, named by its index', async () => {
    const directory = await anEventDirectory({
      'batch.json': [
        aSubmissionDetail({ jobId: 'job-a' }),
        aSubmittedEvent(aSubmissionDetail({ jobId: 'job-b' })),
      ],
    });
    const file = join(directory, 'batch.json');
    const command = aLocalCommand();
    expect(await command.run(file)).toBe(0);
    expect(command.origins()).toEqual([`${file}[0]`, `${file}[1]`]);
    const events = command.pipeline.runs[0]?.inputs.map((input) => input.event);
    expect(events?.map((event) => (event.detail as { jobId: string }).jobId)).toEqual(['job-a', 'job-b']);
    expect(events?.[0]).toMatchObject({ source: 'frontend.api', 'detail-type': 'video.job.submitted' });
  });

  it('given a file that is not JSON, when run, then it exits 2 naming the file, line and column and runs nothing', async () => {
    const directory = await anEventDirectory({ 'broken.json': '{"jobId": ' });
    const command = aLocalCommand();
    expect(await command.run(join(directory, 'broken.json'))).toBe(2);
    expect(command.stderr.text()).toContain(
      `[local] error: ${join(directory, 'broken.json')}:1:11: not JSON: value expected`,
    );
    expect(command.stdout.text()).toBe('');
    expect(command.pipeline.runs).toHaveLength(0);
  });

  it('given a directory with no submission in it, when run, then it exits 2 saying so', async () => {
    const directory = await anEventDirectory({ 'stream.json': { Records: [] } });
    const command = aLocalCommand();
    expect(await command.run(directory)).toBe(2);
    expect(command.stderr.lines()).toContain('[local] no submissions found');
    expect(command.pipeline.runs).toHaveLength(0);
  });
});

describe('npm run local: --credits', () => {
  it('given a credits file, when run, then its balances are seeded through the pipeline', async () => {
    const directory = await anEventDirectory({ 'credits.json': { 'user-123': 10, 'user-456': 0.5 } });
    const command = aLocalCommand();
    expect(await command.run('--credits', join(directory, 'credits.json'))).toBe(0);
    expect(command.pipeline.runs[0]?.credits).toEqual({ 'user-123': 10, 'user-456': 0.5 });
  });

  it.each([
    ['not JSON', '{user-123: 10}', /credits\.json:1:2: not JSON: unexpected character/],
    ['an array', [10], /credits\.json: expected a JSON object userId → balance/],
    ['null', 'null', /credits\.json: expected a JSON object userId → balance/],
    [
      'a balance that is not a number',
      { 'user-123': '10' },
      /credits\.json: the balance of entry 1 is not a number/,
    ],
    [
      'a balance that is not finite',
      '{"user-123": 1e999}',
      /credits\.json: the balance of entry 1 is not a number/,
    ],
  ])(
    'given a credits file holding %s, when run, then it exits 2 naming the file and runs nothing',
    async (_, content, message) => {
      const directory = await anEventDirectory({ 'credits.json': content });
      const command = aLocalCommand();
      expect(await command.run('--credits', join(directory, 'credits.json'))).toBe(2);
      expect(command.stderr.text()).toMatch(message);
      expect(command.pipeline.runs).toHaveLength(0);
    },
  );

  it('given a credits file that does not exist, when run, then it exits 1 naming it', async () => {
    const command = aLocalCommand();
    expect(await command.run('--credits', '/no/such/credits.json')).toBe(1);
    expect(command.stderr.text()).toMatch(/\[local\] error: .*\/no\/such\/credits\.json/);
  });
});

describe('npm run local: output', () => {
  const routed = aLocalEventResult({ origin: '/samples/submitted-fal.json', jobId: 'job-fal' });
  const rejected = aLocalEventResult({
    origin: '/samples/batch.json[1]',
    eventId: null,
    jobId: null,
    outcome: 'rejected',
    provider: null,
    model: null,
    queue: null,
    reason: 'invalid_request',
    effects: { messages: 0, events: 1, jobStatus: null },
  });

  it('given --json, when run, then stdout holds exactly one JSON object per result and the rest goes to stderr', async () => {
    const command = aLocalCommand(aFakePipeline({ results: [routed, rejected] }));
    expect(await command.run('--json')).toBe(0);
    expect(command.stdout.jsonLines()).toEqual([routed, rejected]);
    expect(command.stderr.lines()).toEqual(
      expect.arrayContaining([
        '[local] provisioning stage local',
        expect.stringMatching(/^\[local\] 2 event\(s\) in \d+\.\d s$/),
      ]),
    );
  });

  it('given no --json, when run, then stdout holds a table with file names and dashes for what is absent', async () => {
    const command = aLocalCommand(aFakePipeline({ results: [routed, rejected] }));
    expect(await command.run()).toBe(0);
    const [header, rule, first, second] = command.stdout.lines();
    expect(header?.split(/\s{2,}/)).toEqual([
      'event',
      'jobId',
      'outcome',
      'provider/model',
      'reason',
      'msgs',
      'events',
      'Jobs status',
    ]);
    expect(rule).toMatch(/^-+( +-+){7}$/);
    expect(first?.split(/\s{2,}/)).toEqual([
      'submitted-fal.json',
      'job-fal',
      'routed',
      'fal/wan-i2v',
      '-',
      '1',
      '1',
      'ROUTED',
    ]);
    expect(second?.split(/\s{2,}/)).toEqual([
      'batch.json[1]',
      '-',
      'rejected',
      '-',
      'invalid_request',
      '0',
      '1',
      '-',
    ]);
  });

  it('given an invalid request without a jobId, when printed as a table, then the row shows its eventId and the field errors', async () => {
    const invalid = aLocalEventResult({
      origin: '/samples/bad.json',
      eventId: 'evt-bad',
      jobId: null,
      outcome: 'rejected',
      provider: null,
      reason: 'invalid_request',
      fieldErrors: [
        { path: 'detail.jobId', message: 'Required' },
        { path: 'detail.lengthSec', message: 'Too small' },
      ],
    });
    const command = aLocalCommand(aFakePipeline({ results: [invalid] }));
    expect(await command.run()).toBe(0);
    const row = command.stdout.lines()[2]?.split(/\s{2,}/);
    expect(row?.slice(0, 5)).toEqual([
      'bad.json',
      '- (event evt-bad)',
      'rejected',
      '-',
      'invalid_request (detail.jobId: Required; detail.lengthSec: Too small)',
    ]);
  });

  it("given npm's own --json (npm run local --json), when run, then stdout holds JSON Lines as with -- --json", async () => {
    const command = aLocalCommand(aFakePipeline({ results: [routed] }), { env: { npm_config_json: 'true' } });
    expect(await command.run()).toBe(0);
    expect(command.stdout.jsonLines()).toEqual([routed]);
  });

  it('given a finished run, when it returns, then the stack is stopped and the caller told the emulators are gone', async () => {
    const emulators = aStoppableEmulators();
    const told: unknown[] = [];
    const pipeline = aFakePipeline({ starts: emulators });
    const command = aLocalCommand(pipeline, { onEmulators: (running) => told.push(running) });
    expect(await command.run()).toBe(0);
    expect(pipeline.stops()).toBe(1);
    expect(told).toEqual([emulators, null]);
  });
});

describe('npm run local -- --keep', () => {
  const environment = {
    EVENT_LOG_TABLE: 'RoutingLog-local',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    ODD: "it's here",
  };

  it('given --keep, when the run is done, then the environment is printed and the stack stays up until stopped', async () => {
    const pipeline = aFakePipeline({ environment });
    let stopsWhileKept = -1;
    const command = aLocalCommand(pipeline, {
      untilStopped: async () => {
        stopsWhileKept = pipeline.stops();
      },
    });
    expect(await command.run('--keep')).toBe(0);
    expect(stopsWhileKept).toBe(0);
    expect(pipeline.stops()).toBe(1);
    expect(command.stdout.lines()).toEqual(
      expect.arrayContaining([
        '# paste into a shell: the AWS CLI, boto3, the SDKs and `routing-manager` then work against stage local',
        'unset AWS_PROFILE AWS_SESSION_TOKEN',
        'export EVENT_LOG_TABLE=RoutingLog-local',
        'export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000',
        `export ODD='it'\\''s here'`,
        'export ANNOUNCEMENTS_QUEUE_URL=http://127.0.0.1:5000/000000000000/Announcements-local',
      ]),
    );
    expect(command.stderr.lines()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[local\] stack live: events on bus default are routed .*press Ctrl-C/),
        '[local] stopping the stack',
      ]),
    );
  });

  it('given --keep, when run, then the pipeline is asked to stay live and its reports go to stderr as [live] lines', async () => {
    const pipeline = aFakePipeline();
    const command = aLocalCommand(pipeline);
    expect(await command.run('--keep')).toBe(0);
    pipeline.runs[0]?.live?.report('event e-1: job j-1 routed to fal');
    expect(command.stderr.lines()).toContain('[live] event e-1: job j-1 routed to fal');
  });

  it('given no --keep, when run, then the pipeline is not made live', async () => {
    const pipeline = aFakePipeline();
    expect(await aLocalCommand(pipeline).run()).toBe(0);
    expect(pipeline.runs[0]?.live).toBeUndefined();
  });

  it('given --keep with --json, when the run is done, then the environment goes to stderr so stdout stays JSON Lines', async () => {
    const command = aLocalCommand(aFakePipeline({ environment }));
    expect(await command.run('--keep', '--json')).toBe(0);
    expect(command.stdout.jsonLines()).toHaveLength(1);
    expect(command.stderr.lines()).toContain('export EVENT_LOG_TABLE=RoutingLog-local');
  });
});

describe('npm run local: failures', () => {
  it('given the pipeline fails after starting emulators, when run, then it exits 1 with the message and stops them', async () => {
    const emulators = aStoppableEmulators();
    const command = aLocalCommand(aFakePipeline({ starts: emulators, fails: new Error('queue gone') }));
    expect(await command.run()).toBe(1);
    expect(command.stderr.lines()).toContain('[local] error: queue gone');
    expect(emulators.stops()).toBe(1);
  });

  it('given a --keep session that ends in an error, when run, then the emulators it started are stopped', async () => {
    const emulators = aStoppableEmulators();
    const command = aLocalCommand(aFakePipeline({ starts: emulators }), {
      untilStopped: () => Promise.reject(new Error('interrupted')),
    });
    expect(await command.run('--keep')).toBe(1);
    expect(command.stderr.lines()).toContain('[local] error: interrupted');
    expect(emulators.stops()).toBe(1);
  });

  it('given the pipeline throws something that is not an Error, when run, then it is reported as text', async () => {
    const command = aLocalCommand(aFakePipeline({ fails: 'emulator port taken' }));
    expect(await command.run()).toBe(1);
    expect(command.stderr.lines()).toContain('[local] error: emulator port taken');
  });

  it('given a path that does not exist, when run, then it exits 2 naming it (a bad input, as in every verb)', async () => {
    const command = aLocalCommand();
    expect(await command.run('--json', 'no/such/events')).toBe(2);
    expect(command.stderr.text()).toMatch(/no\/such\/events: no such file or directory/);
    expect(command.stdout.text()).toBe('');
  });
});

describe('npm run local as a process', () => {
  function aHostProcess() {
    const stdout = aCapturedOutput();
    const stderr = aCapturedOutput();
    const listeners = new Map<string, () => void>();
    const exits: number[] = [];
    const kills: string[] = [];
    const clock = { ms: 0 };
    const host: HostProcess = {
      pid: 4242,
      now: () => clock.ms,
      stdout: { write: stdout.stream.write },
      stderr: { write: stderr.stream.write },
      on: (signal, listener) => listeners.set(signal, listener),
      removeAllListeners: (signal) => listeners.delete(signal),
      kill: (pid, signal) => {
        kills.push(`${pid} ${signal}`);
      },
      exit: (code) => {
        exits.push(code);
      },
    };
    const signal = (name: 'SIGINT' | 'SIGTERM') => listeners.get(name)?.();
    /** Polls until the process ended (the shutdown is asynchronous), with a deadline. */
    const ended = async (deadlineMs = 2_000) => {
      const deadline = Date.now() + deadlineMs;
      while (exits.length + kills.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setImmediate(r));
      }
      return { exits, kills };
    };
    return { host, stdout, stderr, signal, ended, listeners, clock };
  }

  it('given the process, when attached, then results reach stdout while every other stdout write goes to stderr', () => {
    const proc = aHostProcess();
    const io = attachToProcess(proc.host);
    proc.host.stdout.write('{"level":"INFO","message":"routing decision recorded"}\n');
    io.stdout.write('result\n');
    io.stderr.write('[local] progress\n');
    expect(proc.stdout.lines()).toEqual(['result']);
    expect(proc.stderr.lines()).toEqual([
      '{"level":"INFO","message":"routing decision recorded"}',
      '[local] progress',
    ]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'given emulators were started and no --keep session yet, when %s arrives (twice), then they are stopped once and the process dies by that signal',
    async (signal) => {
      const proc = aHostProcess();
      const io = attachToProcess(proc.host);
      const emulators = aStoppableEmulators();
      io.onEmulators?.(emulators);
      proc.signal(signal);
      proc.signal(signal);
      expect(await proc.ended()).toEqual({ exits: [], kills: [`4242 ${signal}`] });
      expect(emulators.stops()).toBe(1);
      // Our handler is gone first, so the re-raised signal ends the process the default way.
      expect(proc.listeners.has(signal)).toBe(false);
    },
  );

  it('given a --keep session, when SIGTERM arrives, then the session ends so main can stop the stack, and finishing dies by SIGTERM', async () => {
    const proc = aHostProcess();
    const io = attachToProcess(proc.host);
    const emulators = aStoppableEmulators();
    io.onEmulators?.(emulators);
    const session = io.untilStopped();
    proc.signal('SIGTERM');
    await session;
    expect(emulators.stops()).toBe(0);
    io.finish(0);
    expect(await proc.ended()).toEqual({ exits: [], kills: ['4242 SIGTERM'] });
  });

  it('given a --keep session being stopped, when a second signal arrives, then the emulators are stopped at once', async () => {
    const proc = aHostProcess();
    const io = attachToProcess(proc.host);
    const emulators = aStoppableEmulators();
    io.onEmulators?.(emulators);
    const session = io.untilStopped();
    proc.signal('SIGINT');
    await session;
    proc.clock.ms += 1500;
    proc.signal('SIGINT');
    expect((await proc.ended()).kills).toEqual(['4242 SIGINT']);
    expect(emulators.stops()).toBe(1);
  });

  it('given a Ctrl-C, when it arrives twice at once (from the terminal and forwarded by npm), then the stop stays orderly', async () => {
    const proc = aHostProcess();
    const io = attachToProcess(proc.host);
    const emulators = aStoppableEmulators();
    io.onEmulators?.(emulators);
    const session = io.untilStopped();
    proc.signal('SIGINT');
    proc.clock.ms += 20;
    proc.signal('SIGINT');
    await session;
    expect(emulators.stops()).toBe(0);
    expect(proc.listeners.has('SIGINT')).toBe(true);
  });

  it('given no signal, when main finishes, then the process exits with its code', async () => {
    const proc = aHostProcess();
    attachToProcess(proc.host).finish(2);
    expect(await proc.ended()).toEqual({ exits: [2], kills: [] });
  });

  it('given the emulators were already stopped, when SIGINT arrives, then the process just dies by it', async () => {
    const proc = aHostProcess();
    const io = attachToProcess(proc.host);
    const emulators = aStoppableEmulators();
    io.onEmulators?.(emulators);
    io.onEmulators?.(null);
    proc.signal('SIGINT');
    expect((await proc.ended()).kills).toEqual(['4242 SIGINT']);
    expect(emulators.stops()).toBe(0);
  });

  it('given a --keep session of the process, when no signal came, then it is still running', async () => {
    const io = attachToProcess(aHostProcess().host);
    const settled = io.untilStopped().then(() => 'settled');
    expect(await Promise.race([settled, new Promise((r) => setImmediate(() => r('running')))])).toBe(
      'running',
    );
  });
});

describe('npm run local: handler logs', () => {
  it.each([
    [
      'no level and no --verbose',
      {},
      false,
      { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    ],
    ['--verbose', {}, true, { POWERTOOLS_LOG_LEVEL: 'INFO' }],
    ['LOG_LEVEL=DEBUG', { LOG_LEVEL: 'DEBUG' }, false, { POWERTOOLS_METRICS_DISABLED: 'true' }],
    ['--verbose with POWERTOOLS_LOG_LEVEL=WARN', { POWERTOOLS_LOG_LEVEL: 'WARN' }, true, {}],
    [
      'metrics chosen by the caller',
      { POWERTOOLS_METRICS_DISABLED: 'false' },
      false,
      { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    ],
  ])('given %s, then the handlers get exactly these settings', (_, env, verbose, expected) => {
    expect(handlerLogEnvironment(env, verbose)).toEqual(expected);
  });

  it('given a run without --verbose, when it starts, then the environment it runs in is quiet', async () => {
    const env: Record<string, string | undefined> = {};
    expect(await aLocalCommand(aFakePipeline(), { env }).run()).toBe(0);
    expect(env).toMatchObject({ POWERTOOLS_LOG_LEVEL: 'SILENT' });
  });
});

describe('shell quoting of the printed environment', () => {
  it.each([
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000'],
    ['RoutingLog-local', 'RoutingLog-local'],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
  ])('given %j, when quoted, then the shell reads it back as %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });
});

describe('npm run local --rules', () => {
  it('given a valid table, when run, then the pipeline publishes it; an invalid one exits 2 with every problem', async () => {
    const good = join(await anEventDirectory({ 'rules.json': defaultRoutingTable }), 'rules.json');
    const command = aLocalCommand();
    expect(await command.run('--rules', good)).toBe(0);
    expect(command.pipeline.runs[0]?.rules).toMatchObject({
      origin: good,
      table: { version: defaultRoutingTable.version },
    });

    const bad = join(
      await anEventDirectory({
        'bad.json': {
          ...defaultRoutingTable,
          rules: [defaultRoutingTable.rules[0], defaultRoutingTable.rules[0]],
        },
      }),
      'bad.json',
    );
    const refused = aLocalCommand();
    expect(await refused.run('--rules', bad)).toBe(2);
    expect(refused.stderr.text()).toContain('rules[1].id: duplicate rule id "explicit-fal" (also rules[0])');
    expect(refused.pipeline.runs).toHaveLength(0);
    const notJson = join(await anEventDirectory({ 'x.json': '{' }), 'x.json');
    expect(await aLocalCommand().run('--rules', notJson)).toBe(2);
  });
});
