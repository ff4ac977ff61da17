/** Hostile inbound JSON for intake tests: arbitrary values, deep nesting, huge arrays and strings. */
import fc from 'fast-check';
import { aSubmissionDetail } from './submissions.ts';

/** `{"a":{"a":…1…}}` or `[[…1…]]`, `levels` containers deep, built without recursion. */
export function nested(levels: number, kind: 'object' | 'array' = 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = kind === 'object' ? { a: value } : [value];
  return value;
}

const deep = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('object' as const, 'array' as const))
  .map(([levels, kind]) => nested(levels, kind));

const hugeArray = fc
  .tuple(fc.integer({ min: 1, max: 120_000 }), fc.jsonValue({ maxDepth: 1 }))
  .map(([length, element]) => new Array(length).fill(element));

const hugeString = fc
  .tuple(fc.integer({ min: 1, max: 600_000 }), fc.constantFrom('x', 'é', '\u0001', '"', '😀'))
  .map(([length, unit]) => unit.repeat(length));

/** Any JSON value, or one of the shapes that broke intake before (depth, size, escapes). */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue() },
  { weight: 2, arbitrary: deep },
  { weight: 2, arbitrary: hugeArray },
  { weight: 1, arbitrary: hugeString },
);

/** A valid detail with `key` set to `value` as an own data property (also for `__proto__`). */
export function withField(key: string, value: unknown): Record<string, unknown> {
  const detail = aSubmissionDetail();
  Object.defineProperty(detail, key, { value, enumerable: true, writable: true, configurable: true });
  return detail;
}

const fieldNames = fc.oneof(
  fc.constantFrom('jobId', 'userId', 'prompt', 'lengthSec', 'resolution', 'tier', 'provider', 'feature'),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'imageUrl'),
  fc.string({ maxLength: 12 }),
);

/** A detail that is hostile as a whole, or a valid one with a hostile known or extra field. */
export const hostileDetail: fc.Arbitrary<unknown> = fc.oneof(
  hostileValue,
  fc.tuple(fieldNames, hostileValue).map(([key, value]) => withField(key, value)),
);
