/** `routing-manager capacity` and `capacity set` against the emulators, with real routers taking slots. */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import { DynamoDbRulesLog } from '../../src/aws/dynamodb-rules-log.ts';
import { routeJob } from '../../src/commands/route-job.ts';
import { loadRouterConfig } from '../../src/config/router-config.ts';
import { routerDependencies } from '../../src/handlers/router.ts';
import { handlerEnvironment, type LocalStack } from '../../src/local/provision.ts';
import { RULES_STREAM } from '../../src/log/rules-records.ts';
import { runCliOn } from '../support/cli-run.ts';
import { aProvisionedStack } from '../support/stack.ts';
import { aSubmissionDetail, aSubmittedEvent } from '../support/submissions.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await aProvisionedStack();
});

const cli = (...argv: string[]) =>
  runCliOn(stack.stage, argv, { env: { ...process.env, USER: 'ops' }, now: () => new Date() });

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('operator capacity commands (emulators)', () => {
  it('given the default rules, then capacity lists every provider as unlimited', async () => {
    const { code, stdout } = await cli('capacity', '--json');
    expect(code).toBe(0);
    expect(jsonLines(stdout).map((v) => [v.provider, v.limit, v.inFlight])).toEqual([
      ['fal', null, null],
      ['replicate', null, null],
    ]);
  });

  it('given capacity set fal 2, then the change is a recorded rules version, routers obey it, and capacity shows 2 of 2 in flight', async () => {
    const set = await cli('capacity', 'set', 'fal', '2', '--why', 'fal account limit');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/concurrency:\s+unlimited → 2/);
    const history = await new DynamoDbRulesLog(createDocumentClient(), stack.tables.routingLog).readStream(
      RULES_STREAM,
    );
    expect(history.at(-1)?.data).toMatchObject({ action: 'publish', by: 'ops', why: 'fal account limit' });
    expect(JSON.parse(history.at(-1)?.data.active?.table ?? '{}').providers.fal.concurrency).toBe(2);

    // A router that reads the published rules (as deployed): three auto jobs, the third to Replicate.
    const deps = routerDependencies(loadRouterConfig(handlerEnvironment(stack)));
    const providers = [];
    for (let i = 0; i < 3; i++) {
      const { record } = await routeJob(
        { type: 'RouteJob', data: { event: aSubmittedEvent(aSubmissionDetail()) } },
        deps,
      );
      providers.push(record.type === 'RoutingDecided' ? record.data.provider : record.type);
    }
    expect(providers).toEqual(['fal', 'fal', 'replicate']);
    // An explicit fal job now waits for a slot: held, never sent to Replicate.
    const explicit = await routeJob(
      { type: 'RouteJob', data: { event: aSubmittedEvent(aSubmissionDetail({ provider: 'fal' })) } },
      deps,
    );
    expect(explicit.record).toMatchObject({ type: 'RoutingDeferred', data: { waitingFor: ['fal'] } });

    const capacity = await cli('capacity');
    // provider, limit, in flight, free, held, expired (unswept), shards, job timeout
    expect(capacity.stdout).toMatch(/fal\s+2\s+2\s+0\s+1\s+0\s+1\s+900s/);
    expect(jsonLines((await cli('capacity', '--json')).stdout)[0]).toMatchObject({
      provider: 'fal',
      inFlight: 2,
      free: 0,
      held: 1,
    });
    expect(capacity.stdout).toMatch(/replicate\s+unlimited\s+-/);

    expect((await cli('capacity', 'set', 'fal', 'unlimited', '--why', 'limit lifted')).code).toBe(0);
    expect(jsonLines((await cli('capacity', '--json')).stdout)[0]).toMatchObject({
      provider: 'fal',
      limit: null,
    });
  });

  it('given a provider the rules do not declare, or a limit that is not a whole number, then it is refused before anything is written', async () => {
    const unknown = await cli('capacity', 'set', 'fall', '2', '--why', 'typo');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown provider "fall": the active rules declare fal, replicate');
    for (const bad of ['0', '1.5', 'Infinity', '-3', 'many']) {
      const refused = await cli('capacity', 'set', 'fal', bad, '--why', 'bad');
      expect(refused.code).toBe(2);
    }
    expect((await cli('capacity', 'set', 'fal', '2')).code).toBe(2);
  });
});
