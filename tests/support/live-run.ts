/** A live local stack (`npm run local -- --keep`) in-process on the suite's emulators. */
import { inject } from 'vitest';
import { type LocalRun, runLocal } from '../../src/local/run-local.ts';
import { uniqueStage } from './stack.ts';

export async function aLiveLocalRun(stagePrefix: string, reports: string[]): Promise<LocalRun> {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return runLocal({
    inputs: [],
    stage: uniqueStage(stagePrefix),
    emulators: inject('emulatorEndpoints'),
    live: { report: (line) => reports.push(line), waitSeconds: 1 },
  });
}
