/**
 * Provider-health items already in a deployed table keep working under the store's one append
 * contract: a breaker item and a dedupe marker exactly as the code before `appendToStream` wrote
 * them (a state from before the arrived run existed, too) are put into DynamoDB Local raw, then
 * loaded, refused and appended through the adapter and the RecordHealthSignal command — and what an
 * append writes is that same layout, attribute for attribute.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../src/aws/clients.ts';
import {
  DynamoDbProviderHealthStore,
  SIGNAL_MARKER_TTL_SECONDS,
} from '../../src/aws/dynamodb-provider-health-store.ts';
import { recordHealthSignals } from '../../src/commands/record-health-signal.ts';
import { VersionConflictError } from '../../src/errors.ts';
import type { LocalStack } from '../../src/local/provision.ts';
import { type HealthSignal, parseHealthSignal } from '../../src/provider-health/signals.ts';
import { aRecentAttemptEvent } from '../support/health-signals.ts';
import { appendChange } from '../support/provider-health-contract.ts';
import { aProvisionedStack } from '../support/stack.ts';

let stack: LocalStack;
const documents = createDocumentClient();
const storeOf = () =>
  new DynamoDbProviderHealthStore(documents, {
    health: stack.tables.providerHealth,
    log: stack.tables.routingLog,
  });
const rawItem = async (pk: string) =>
  (await documents.send(new GetCommand({ TableName: stack.tables.providerHealth, Key: { pk } }))).Item;

const provider = `old${Date.now().toString(36)}`;
const model = 'wan-i2v';
const key = `${provider}#${model}`;

/** A closed breaker with two counted failures, as stored before `run`, `provisional` and the fold's marks. */
const OLD_STATE = {
  key,
  provider,
  model,
  version: 2,
  status: 'closed',
  mode: 'auto',
  since: '2026-11-20T09:00:00.000Z',
  reason: 'probe_succeeded',
  detail: '3 probe successes',
  openUntil: null,
  openings: 0,
  consecutiveFailures: 2,
  probeSuccesses: 0,
  probe: null,
};

function aFailure(seconds: number): HealthSignal {
  const parsed = parseHealthSignal(aRecentAttemptEvent({ provider, model }, seconds));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.signal;
}

const counted = aFailure(1);
const later = Math.floor(Date.now() / 1000) + SIGNAL_MARKER_TTL_SECONDS;

beforeAll(async () => {
  stack = await aProvisionedStack();
  const items = [
    { pk: `breaker#${key}`, rev: 4, state: OLD_STATE, updatedAt: '2026-11-20T09:00:00.000Z' },
    { pk: `signal#${counted.command.signalId}`, expiresAt: later },
  ];
  for (const Item of items) {
    await documents.send(new PutCommand({ TableName: stack.tables.providerHealth, Item }));
  }
});

afterAll(() => documents.destroy());

describe('provider-health items written before the one append contract', () => {
  it('given a breaker item in the old layout, when loaded, then it is the state at its rev', async () => {
    expect(await storeOf().load({ provider, model })).toEqual({ state: OLD_STATE, rev: 4 });
  });

  it('given a signal whose marker was written before, when it is delivered again, then the command answers duplicate and nothing is written', async () => {
    expect(await recordHealthSignals([counted], { store: storeOf() })).toEqual([{ outcome: 'duplicate' }]);
    expect(await rawItem(`breaker#${key}`)).toMatchObject({ rev: 4, state: OLD_STATE });
  });

  it('given a new failure, when appended on the old breaker, then the breaker item and its marker keep the old layout, attribute for attribute', async () => {
    const fresh = aFailure(2);
    expect(await recordHealthSignals([fresh], { store: storeOf() })).toMatchObject([{ outcome: 'recorded' }]);
    const breaker = await rawItem(`breaker#${key}`);
    expect(Object.keys(breaker ?? {}).sort()).toEqual(['pk', 'rev', 'state', 'updatedAt']);
    expect(breaker).toMatchObject({ rev: 5, updatedAt: fresh.command.at, state: { key, version: 2 } });
    expect(await rawItem(`signal#${fresh.command.signalId}`)).toEqual({
      pk: `signal#${fresh.command.signalId}`,
      expiresAt: Math.floor(Date.parse(fresh.command.at) / 1000) + SIGNAL_MARKER_TTL_SECONDS,
    });
  });

  it('given an append at the revision the old item had, then it is refused with the breaker as stored', async () => {
    const { state } = await storeOf().load({ provider, model });
    const late = aFailure(3).command;
    const error = await appendChange(
      storeOf(),
      { state, at: late.at, signals: [{ signalId: late.signalId, at: late.at }] },
      4,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect((error as VersionConflictError).existing).toEqual({ breaker: { state, rev: 5 }, counted: [] });
    expect(await rawItem(`signal#${late.signalId}`)).toBeUndefined();
  });
});
