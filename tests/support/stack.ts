import { handlerEnvironment, type LocalStack, provisionLocalStack } from '../../src/local/provision.ts';
import { uniqueStage } from './local-aws.ts';

export { uniqueStage };

/** Provisions a fresh stack on the emulators and exports its handler environment to process.env. */
export async function aProvisionedStack(options: { fifoProviderQueues?: boolean } = {}): Promise<LocalStack> {
  const stack = await provisionLocalStack({ stage: uniqueStage(), ...options });
  Object.assign(process.env, handlerEnvironment(stack));
  return stack;
}
