/**
 * The seed's "SAM local event test", without a container runtime: every sample in events/ that
 * `sam local invoke -e` would take is given to the real handler here, against the emulators.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { readJob, receiveAll } from '../support/local-aws.ts';
import { aProvisionedStack } from '../support/stack.ts';

const sample = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

let stack: LocalStack;
let router: typeof import('../../src/lambda/router.ts').handler;
let projector: typeof import('../../src/lambda/projector.ts').handler;

beforeAll(async () => {
  stack = await aProvisionedStack();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  router = (await import('../../src/lambda/router.ts')).handler;
  projector = (await import('../../src/lambda/projector.ts')).handler;
});

describe('router handler on the events/ samples', () => {
  it.each([
    ['submitted-fal.json', { decision: 'routed', provider: 'fal', reason: null }],
    ['submitted-replicate.json', { decision: 'routed', provider: 'replicate', reason: null }],
    ['submitted-no-route.json', { decision: 'rejected', provider: null, reason: 'no_route' }],
    ['submitted-invalid.json', { decision: 'rejected', provider: null, reason: 'invalid_request' }],
  ])('given %s, when the router is invoked, then the job is %o', async (file, expected) => {
    const response = await router(sample(file), aLocalLambdaContext());
    expect(response).toMatchObject({ outcome: 'recorded', ...expected });
  });
});

describe('projector handler on the events/ stream sample', () => {
  it('given the RoutingDecided stream record, when projected, then the job is on the fal queue and ROUTED', async () => {
    const event = sample('dynamodb-stream-insert.json');
    const jobId = event.Records[0].dynamodb.NewImage.jobId.S as string;
    const result = await projector(event, aLocalLambdaContext());
    expect(result).toEqual({ batchItemFailures: [] });
    const [message] = await receiveAll(stack.queues.fal, { expected: 1 });
    expect(JSON.parse(message?.body ?? '{}')).toMatchObject({ dispatchId: `${jobId}:v1`, provider: 'fal' });
    expect(await readJob(stack, jobId)).toMatchObject({
      status: 'ROUTED',
      provider: 'fal',
      model: 'wan-i2v',
    });
  });
});
