import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../src/intake/json-text.ts';

describe('JSON text an operator gave, parsed with the place of its first error', () => {
  it.each([
    ['{\n  "version": \n', 3, 1, 'value expected'],
    ['{\n "a": 1,\n "b" 2}', 3, 6, 'colon expected'],
    ['[1,]', 1, 4, 'value expected'],
    ['', 1, 1, 'value expected'],
    ['{"prompt": "corgi surfing" oops}', 1, 28, 'unexpected character'],
  ])('given %j, then it is refused at line %i, column %i: %s', (text, line, column, problem) => {
    expect(parseJsonText(text)).toEqual({ ok: false, line, column, problem });
  });

  it('given a refusal, then no part of the text is quoted back', () => {
    expect(JSON.stringify(parseJsonText('{"prompt": "corgi surfing" oops}'))).not.toContain('corgi');
  });

  it('given valid JSON, then it is the value', () => {
    expect(parseJsonText('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
  });
});
