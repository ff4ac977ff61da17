/** `routing-manager health` and `routing-manager provider …` against the emulators. */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRoutingLog } from '../../src/aws/dynamodb-routing-log.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { runCliOn } from '../support/cli-run.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await aProvisionedStack();
});

const cli = (...argv: string[]) =>
  runCliOn(stack.stage, argv, {
    env: { ...process.env, USER: 'ops' },
    now: () => new Date('2026-11-25T14:10:00.000Z'),
  });

describe('operator health commands (emulators)', () => {
  it('given no signal yet, then health lists every breaker of the table as closed', async () => {
    const { code, stdout } = await cli('health', '--json');
    expect(code).toBe(0);
    const views = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(views.map((v) => [v.breaker, v.status])).toEqual([
      ['fal', 'closed'],
      ['fal#wan-i2v', 'closed'],
      ['replicate', 'closed'],
      ['replicate#wan-2.1-i2v', 'closed'],
    ]);
  });

  it('given provider open fal, then the transition is recorded once, shown by health and history, and auto gives it back', async () => {
    const open = await cli('provider', 'open', 'fal', '--why', 'status page incident');
    expect(open).toMatchObject({ code: 0, stdout: 'fal: forced_open recorded (transition v1)\n' });
    expect((await cli('provider', 'open', 'fal', '--why', 'status page incident')).stdout).toContain(
      'nothing recorded',
    );

    const health = await cli('health', '--provider', 'fal');
    expect(health.stdout).toMatch(
      /fal\s+open\s+forced_open\s+2026-11-25T14:10:00.000Z\s+operator_forced_open: status page incident/,
    );

    const history = await cli('history', 'health#fal');
    expect(history.stdout).toContain('ProviderHealthChanged  closed → open (forced_open)');
    expect(history.stdout).toContain('caused by operator-');

    expect((await cli('provider', 'auto', 'fal', '--why', 'resolved')).code).toBe(0);
    const records = await new DynamoDbRoutingLog(createDocumentClient(), stack.tables.routingLog).readStream(
      'health#fal',
    );
    expect(
      records.map((r) =>
        r.type === 'ProviderHealthChanged'
          ? [r.metadata.version, r.data.transition.mode, r.data.transition.actor]
          : [],
      ),
    ).toEqual([
      [1, 'forced_open', 'ops'],
      [2, 'auto', 'ops'],
    ]);
  });

  it('given an unknown action, then it is a usage error', async () => {
    const { code, stderr } = await cli('provider', 'explode', 'fal', '--why', 'x');
    expect(code).toBe(2);
    expect(stderr).toContain('unknown action "explode"; allowed: open, close, auto');
  });

  it.each([
    [
      ['provider', 'open', 'fla', '--why', 'x'],
      'provider "fla" is not a provider of the routing tables; allowed: fal, replicate',
    ],
    [
      ['provider', 'open', 'fal', '--model', 'wan', '--why', 'x'],
      '--model "wan" is not a model of fal; allowed: wan-i2v',
    ],
    [
      ['provider', 'close', 'replicate', '--model', 'wan-i2v', '--why', 'x'],
      '--model "wan-i2v" is not a model of replicate; allowed: wan-2.1-i2v',
    ],
    [
      ['health', '--provider', 'veo'],
      'provider "veo" is not a provider of the routing tables; allowed: fal, replicate',
    ],
    [
      ['history', 'health#fla'],
      'provider "fla" is not a provider of the routing tables; allowed: fal, replicate',
    ],
  ])(
    'given the typo %j, then it exits 2 with the allowed values and records nothing',
    async (argv, message) => {
      const log = new DynamoDbRoutingLog(createDocumentClient(), stack.tables.routingLog);
      const { code, stdout, stderr } = await cli(...argv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(message);
      for (const stream of ['health#fla', 'health#fal#wan', 'health#replicate#wan-i2v', 'health#veo'])
        expect(await log.readStream(stream)).toEqual([]);
    },
  );

  it('given a breaker with no transition, then its history says so instead of job fields', async () => {
    const { code, stderr } = await cli('history', 'health#replicate');
    expect(code).toBe(3);
    expect(stderr).toContain('no transition recorded for breaker replicate');
  });
});
