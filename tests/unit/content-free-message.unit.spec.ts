import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { contentFreeMessage } from '../../src/observability/content-free-message.ts';
import { errorFacts } from '../../src/observability/error-facts.ts';

const thrownBy = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
};

describe('content-free error messages', () => {
  it('given a JSON parse error quoting the text, then the quote is withheld and the position kept', () => {
    expect(contentFreeMessage(thrownBy(() => JSON.parse('corgi surfing')))).toBe(
      'Unexpected token <withheld>',
    );
    expect(contentFreeMessage(thrownBy(() => JSON.parse('{"prompt": "corgi surfing')))).toBe(
      'Unterminated string in JSON at position 25 (line 1 column 26)',
    );
    const long = `{"prompt": "${'corgi surfing '.repeat(20)}"} "trailing"`;
    expect(contentFreeMessage(thrownBy(() => JSON.parse(long)))).toBe(
      'Unexpected non-whitespace character after JSON at position 295 (line 1 column 296)',
    );
    expect(contentFreeMessage(thrownBy(() => JSON.parse(`x${long}`)))).toBe('Unexpected token <withheld>');
  });

  it('given an error whose message quotes values, then the quoted parts are withheld and the words kept', () => {
    const error = new TypeError(
      `The "userId" argument must be of type number. Received type string ('user-123')`,
    );
    expect(contentFreeMessage(error)).toBe(
      'The <withheld> argument must be of type number. Received type string (<withheld>)',
    );
  });

  it('given an AWS service error, then its message is kept (it describes the request, not the data)', () => {
    const error = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    });
    expect(contentFreeMessage(error)).toBe('The conditional request failed');
    expect(errorFacts(error)).toEqual({
      code: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
    });
  });

  it('given a thrown non-Error, then only its type is told', () => {
    expect(contentFreeMessage('corgi surfing')).toBe('a non-Error value was thrown (string)');
    expect(errorFacts('corgi surfing')).toEqual({
      code: 'Error',
      message: 'a non-Error value was thrown (string)',
    });
  });
});
