import type { TestProject } from 'vitest/node';
import { type EmulatorEndpoints, startEmulators } from '../../src/local/emulators.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    emulatorEndpoints: EmulatorEndpoints;
  }
}

export default async function setup(project: TestProject) {
  const emulators = await startEmulators();
  project.provide('emulatorEndpoints', emulators.endpoints);
  return () => emulators.stop();
}
