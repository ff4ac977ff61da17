/** An output stream that keeps what is written, for commands whose I/O is injected. */
export interface CapturedOutput {
  readonly stream: { write(text: string): boolean; readonly isTTY?: boolean };
  /** Everything written so far. */
  text(): string;
  /** The non-empty lines written so far. */
  lines(): string[];
  /** Each non-empty line parsed as JSON (JSON Lines output). */
  jsonLines(): unknown[];
}

export function aCapturedOutput(options: { isTTY?: boolean } = {}): CapturedOutput {
  let written = '';
  const lines = () => written.split('\n').filter((line) => line.length > 0);
  return {
    stream: {
      write: (text: string) => {
        written += text;
        return true;
      },
      ...(options.isTTY ? { isTTY: true } : {}),
    },
    text: () => written,
    lines,
    jsonLines: () => lines().map((line) => JSON.parse(line) as unknown),
  };
}
