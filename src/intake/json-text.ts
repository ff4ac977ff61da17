/**
 * JSON text an operator gave (a file), parsed with the place of its first error: `line 3, column 6:
 * colon expected`. V8's JSON.parse says where only for some errors and quotes the text for others
 * (user content: never echoed), so the position comes from jsonc-parser's scanner, which reports the
 * offset of every error without quoting anything. Pure.
 */
import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';

export type JsonTextResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly line: number; readonly column: number; readonly problem: string };

const PROBLEMS: Readonly<Record<string, string>> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'property name expected',
  ValueExpected: 'value expected',
  ColonExpected: 'colon expected',
  CommaExpected: 'comma expected',
  CloseBraceExpected: 'closing brace expected',
  CloseBracketExpected: 'closing bracket expected',
  EndOfFileExpected: 'end of file expected',
  InvalidCommentToken: 'comments are not JSON',
  UnexpectedEndOfComment: 'unexpected end of comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unexpected end of number',
  InvalidUnicode: 'malformed unicode escape',
  InvalidEscapeCharacter: 'malformed escape',
  InvalidCharacter: 'invalid character in a string',
};

/** 1-based line and column of an offset (a column counts UTF-16 code units, as editors do). */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

export function parseJsonText(text: string): JsonTextResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const errors: ParseError[] = [];
    parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const [first] = errors;
    // JSON.parse refused what the scanner accepts only for an empty text: its end is the place.
    const offset = first?.offset ?? text.length;
    const name = first ? printParseErrorCode(first.error) : 'ValueExpected';
    return { ok: false, ...positionOf(text, offset), problem: PROBLEMS[name] ?? name };
  }
}
