import fc from 'fast-check';
import stringify from 'safe-stable-stringify';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/intake/canonical-json.ts';
import { nested } from '../support/hostile-json.ts';

describe('canonical JSON', () => {
  it('given any JSON value, then the text is exactly what safe-stable-stringify writes (old payload hashes still match)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value).text).toBe(stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('given objects with unusual keys (__proto__, constructor, unicode, empty), then keys are kept and sorted by code unit', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"constructor":2,"":3,"é":4,"Z":5,"a":[{"b":null}]}');
    expect(canonicalJson(value).text).toBe(stringify(value));
    expect(canonicalJson(value).text).toBe(
      '{"":3,"Z":5,"__proto__":{"x":1},"a":[{"b":null}],"constructor":2,"é":4}',
    );
  });

  it('given non-JSON values, then they are written as safe-stable-stringify writes them', () => {
    const samples: unknown[] = [
      undefined,
      () => 1,
      { a: undefined, b: () => 1, c: Symbol('s'), d: 2 },
      [undefined, () => 1, 3],
      10n,
      Number.NaN,
      -0,
      new Date('2026-11-25T10:00:00Z'),
      { when: new Date('2026-11-25T10:00:00Z') },
      [new Date(0)],
    ];
    for (const sample of samples) expect(canonicalJson(sample).text).toBe(stringify(sample));
  });

  it('given a cycle, then it is written as a marker string instead of looping', () => {
    const cyclic: Record<string, unknown> = { a: 1, list: [] };
    cyclic.self = cyclic;
    (cyclic.list as unknown[]).push(cyclic, { a: 1 });
    expect(canonicalJson(cyclic).text).toBe('{"a":1,"list":["[Circular]",{"a":1}],"self":"[Circular]"}');
  });

  it('given a value nested 100,000 levels deep, then it is written without overflowing the stack and its depth is measured', () => {
    for (const kind of ['object', 'array'] as const) {
      const result = canonicalJson(nested(100_000, kind));
      expect(result.depth).toBe(100_000);
      expect(result.bytes).toBe((result.text as string).length);
    }
  });

  it('given scalars and containers, then depth counts open containers and bytes are UTF-8 bytes', () => {
    expect(canonicalJson('é')).toEqual({ text: '"é"', depth: 0, bytes: 4 });
    expect(canonicalJson({}).depth).toBe(1);
    expect(canonicalJson({ a: [1, { b: [] }] }).depth).toBe(4);
    expect(canonicalJson(undefined)).toEqual({ text: undefined, depth: 0, bytes: 0 });
  });
});
