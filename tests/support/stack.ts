import { randomBytes } from 'node:crypto';
import { handlerEnvironment, type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';

/** A stage name no other test file uses, so files can share the emulators in parallel. */
export const uniqueStage = (prefix = 't'): string => `${prefix}${randomBytes(4).toString('hex')}`;

/** Provisions a fresh stack on the emulators and exports its handler environment to process.env. */
export async function aProvisionedStack(options: { fifoProviderQueues?: boolean } = {}): Promise<LocalStack> {
  const stack = await provisionLocalStack({ stage: uniqueStage(), ...options });
  Object.assign(process.env, handlerEnvironment(stack));
  return stack;
}
