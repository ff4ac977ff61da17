/**
 * The message of a thrown value, fit for a log line or an operator's terminal. Errors raised while
 * parsing user content quote it — `JSON.parse` quotes the start of the text, Node's argument
 * errors print the value received, zod's can carry input — and a log line is kept for weeks and
 * read by people who must not see prompts or user ids. So:
 *   - an AWS service error keeps its message: it describes the request, not the data;
 *   - a SyntaxError keeps what precedes its first quote (V8 cites JSON text unescaped:
 *     `Unexpected token 'c', "corgi surf"... is not valid JSON`), positions included;
 *   - any other message keeps its words but loses every quoted value (Node quotes what it cites);
 *   - a thrown non-Error (a string, an object) is told by its type only.
 */

const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
const WITHHELD = '<withheld>';

const isAwsServiceError = (error: Error): boolean => '$metadata' in error && '$fault' in error;

export function contentFreeMessage(error: unknown): string {
  if (!(error instanceof Error)) return `a non-Error value was thrown (${typeof error})`;
  if (isAwsServiceError(error)) return error.message;
  if (error instanceof SyntaxError) {
    // V8 cites JSON text without escaping its quotes: keep only what comes before the first one.
    const cut = error.message.search(/["'`]/);
    return cut < 0 ? error.message : `${error.message.slice(0, cut)}${WITHHELD}`;
  }
  return error.message.replace(QUOTED, WITHHELD);
}
