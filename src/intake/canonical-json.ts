/**
 * Canonical JSON of any value — object keys sorted, whitespace-free — written without recursion,
 * so a submission nested thousands of levels deep cannot overflow the stack. It is what the
 * payload hash covers and what a rejected submission's record keeps.
 *
 * For JSON values the text is byte-identical to `safe-stable-stringify` (the library the log's
 * payload hashes were made with, kept as the reference in a property test), so hashes recorded
 * before this module existed still tell a redelivery from a conflicting duplicate.
 * Non-JSON values follow that library too: `toJSON` is honoured, bigints are written as numbers,
 * undefined/functions/symbols are dropped from objects and become null in arrays; a cycle
 * (impossible in parsed JSON) is written as the string "[Circular]".
 */

export interface CanonicalJson {
  /** undefined when the value itself has no JSON form (undefined, a function, a symbol). */
  readonly text: string | undefined;
  /** Deepest nesting of arrays/objects: 0 for a scalar, 1 for `{}` or `[1]`, 2 for `{"a":[]}`. */
  readonly depth: number;
  /** UTF-8 length of `text` (0 when there is none). */
  readonly bytes: number;
}

type Frame =
  | { kind: 'array'; readonly value: readonly unknown[]; index: number }
  | {
      kind: 'object';
      readonly value: Record<string, unknown>;
      readonly keys: readonly string[];
      index: number;
      wrote: boolean;
    };

const NO_JSON = Symbol('no JSON form');

function scalar(value: unknown): string | typeof NO_JSON | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return String(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return NO_JSON;
    default:
      return value === null ? 'null' : undefined; // undefined: a container
  }
}

function toJsonOf(value: unknown, key: string): unknown {
  const candidate = value as { toJSON?: unknown } | null;
  return typeof value === 'object' && candidate !== null && typeof candidate.toJSON === 'function'
    ? (candidate.toJSON as (key: string) => unknown)(key)
    : value;
}

export function canonicalJson(input: unknown): CanonicalJson {
  const out: string[] = [];
  const stack: Frame[] = [];
  // Containers on the current path: a value met again while it is open is a cycle.
  const open = new Set<object>();
  let depth = 0;

  /** Writes a scalar or opens a container (toJSON already applied); false: no JSON form. */
  const write = (value: unknown): boolean => {
    const text = scalar(value);
    if (text === NO_JSON) return false;
    if (text !== undefined) {
      out.push(text);
      return true;
    }
    const container = value as object;
    if (open.has(container)) {
      out.push('"[Circular]"');
      return true;
    }
    open.add(container);
    if (Array.isArray(container)) {
      out.push('[');
      stack.push({ kind: 'array', value: container, index: 0 });
    } else {
      out.push('{');
      const record = container as Record<string, unknown>;
      stack.push({ kind: 'object', value: record, keys: Object.keys(record).sort(), index: 0, wrote: false });
    }
    depth = Math.max(depth, stack.length);
    return true;
  };

  if (!write(toJsonOf(input, ''))) return { text: undefined, depth: 0, bytes: 0 };

  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if (frame.kind === 'array') {
      if (frame.index === frame.value.length) {
        out.push(']');
        open.delete(frame.value);
        stack.pop();
        continue;
      }
      const index = frame.index++;
      if (index > 0) out.push(',');
      if (!write(toJsonOf(frame.value[index], String(index)))) out.push('null');
      continue;
    }
    if (frame.index === frame.keys.length) {
      out.push('}');
      open.delete(frame.value);
      stack.pop();
      continue;
    }
    const key = frame.keys[frame.index++] as string;
    const member = toJsonOf(frame.value[key], key);
    if (scalar(member) === NO_JSON) continue;
    out.push(`${frame.wrote ? ',' : ''}${JSON.stringify(key)}:`);
    frame.wrote = true;
    write(member);
  }
  const text = out.join('');
  return { text, depth, bytes: Buffer.byteLength(text, 'utf8') };
}
