/**
 * A validator for the JSON Schema keywords the inbound schema uses (type, pattern, minLength,
 * exclusiveMinimum, properties, required, additionalProperties), so a test can ask the published
 * schema itself whether it accepts an input. An unknown keyword fails loudly: the check never
 * silently ignores part of the contract.
 */
type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', 'description']);
const KEYWORDS = new Set([
  'type',
  'pattern',
  'minLength',
  'exclusiveMinimum',
  'properties',
  'required',
  'additionalProperties',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function schemaAccepts(schema: Schema, value: unknown): boolean {
  for (const keyword of Object.keys(schema)) {
    if (!ANNOTATIONS.has(keyword) && !KEYWORDS.has(keyword))
      throw new Error(`unsupported keyword ${keyword}`);
  }
  if (schema.type !== undefined) {
    const actual = typeOf(value);
    const matches = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!matches) return false;
  }
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) return false;
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) return false;
  }
  if (typeof value === 'number' && typeof schema.exclusiveMinimum === 'number') {
    if (!(value > schema.exclusiveMinimum)) return false;
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) if (!Object.hasOwn(object, name)) return false;
    for (const [name, child] of Object.entries(object)) {
      const own = Object.hasOwn(properties, name) ? properties[name] : undefined;
      const rule = own ?? (schema.additionalProperties as Schema | undefined) ?? {};
      if (!schemaAccepts(rule, child)) return false;
    }
  }
  return true;
}
