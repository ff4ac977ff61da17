/**
 * The seed's "SAM local event test", without a container runtime: every sample in events/ that
 * `sam local invoke -e` would take is given to the real handler here, against the emulators.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { aLambdaContext } from '../support/lambda-context.ts';
import { aProvisionedStack } from '../support/stack.ts';

const sample = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

let router: typeof import('../../src/handlers/router.ts').handler;

beforeAll(async () => {
  await aProvisionedStack();
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  router = (await import('../../src/handlers/router.ts')).handler;
});

describe('router handler on the events/ samples', () => {
  it.each([
    ['submitted-fal.json', { decision: 'routed', provider: 'fal', reason: null }],
    ['submitted-replicate.json', { decision: 'routed', provider: 'replicate', reason: null }],
    ['submitted-no-route.json', { decision: 'rejected', provider: null, reason: 'no_route' }],
    ['submitted-invalid.json', { decision: 'rejected', provider: null, reason: 'invalid_request' }],
  ])('given %s, when the router is invoked, then the job is %o', async (file, expected) => {
    const response = await router(sample(file), aLambdaContext());
    expect(response).toMatchObject({ outcome: 'recorded', ...expected });
  });
});
