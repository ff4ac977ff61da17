/** Small statistics and process helpers shared by the benchmarks. */
import { writeFileSync, writeSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { forEachBounded } from '../../src/batching/for-each-bounded.ts';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** Progress on stderr, written past any patched process.stderr.write (handler logs are captured). */
export function progress(message: string): void {
  writeSync(2, `[bench] ${message}\n`);
}

/** A child benchmark's result goes to the file its parent named in BENCH_OUT. */
export function writeResult(result: unknown): void {
  const out = process.env.BENCH_OUT;
  if (!out) {
    writeSync(1, `${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  writeFileSync(out, JSON.stringify(result));
}

/**
 * Swallows what handlers print (Powertools logs and EMF lines, which Lambda ships to CloudWatch Logs)
 * and counts the bytes, so log volume per job can be priced and the bench's own output stays readable.
 */
export class LogCapture {
  bytes = 0;
  lines = 0;
  readonly #restore: Array<() => void> = [];

  constructor() {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
        this.lines += 1;
        const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as typeof stream.write;
      this.#restore.push(() => {
        stream.write = original;
      });
    }
  }

  take(): { bytes: number; lines: number } {
    const taken = { bytes: this.bytes, lines: this.lines };
    this.bytes = 0;
    this.lines = 0;
    return taken;
  }

  restore(): void {
    for (const undo of this.#restore) undo();
  }
}

export function benchLambdaContext(functionName: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `bench/[$LATEST]${requestId}`,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Runs `task` over `items` with at most `concurrency` in flight; results in input order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  await forEachBounded(items, concurrency, async (item, index) => {
    results[index] = await task(item, index);
  });
  return results;
}
