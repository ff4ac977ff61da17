/** Provisioning the benchmark's stacks on the emulators (setup only: never metered). */
import { DeleteRuleCommand, EventBridgeClient, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';

/**
 * A stack without the announcement-capture rule. provisionLocalStack adds a rule that copies every
 * announcement to an SQS queue so tests can see them; on moto that delivery happens inside PutEvents
 * (tens of ms per entry, and every stack's rule matches every stack's events), which would make the
 * emulator's PutEvents latency — and so the measured handler durations — depend on consumers, unlike
 * AWS. The benchmark reads nothing back from that queue, so it removes the rule.
 */
export async function provisionBenchStack(stage: string): Promise<LocalStack> {
  const stack = await provisionLocalStack({ stage });
  const events = new EventBridgeClient({});
  try {
    const rule = `routing-announcements-${stack.stage}`;
    await events.send(
      new RemoveTargetsCommand({ Rule: rule, EventBusName: stack.eventBusName, Ids: ['capture'] }),
    );
    await events.send(new DeleteRuleCommand({ Name: rule, EventBusName: stack.eventBusName }));
  } finally {
    events.destroy();
  }
  return stack;
}
