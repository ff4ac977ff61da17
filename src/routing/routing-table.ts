/**
 * The routing table is data: a provider catalogue and an ordered list of rules. It is validated
 * by this schema whether it comes from the typed default (default-table.ts) or from a JSON file
 * (the what-if CLI), so a bad table fails loudly at load time, never during a decision.
 */

import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { RoutingManagerError } from '../errors.ts';
// English messages for zod/mini (src/intake/schema.ts).
import '../intake/schema.ts';
import { canonicalJson } from '../intake/canonical-json.ts';
import { AUTO_PROVIDER } from '../intake/submission.ts';

const name = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'is not a name: lower-case a-z, 0-9, . _ - (at most 64)'));

// Resolutions are names, compared with the request's lower-cased value: a table may list any.
const resolution = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9._-]{0,15}$/,
      'is not a resolution name: lower-case a-z, 0-9, . _ - (at most 16)',
    ),
  );

/** A list of at least one item (zod's `nonempty()`). */
const nonEmpty = <T extends z.ZodMiniType>(item: T) => z.array(item).check(z.minLength(1));
const positive = () => z.number().check(z.positive());

/** A provider's declared concurrency is at most this (the ledger's shard count stays bounded). */
export const MAX_CONCURRENCY = 100_000;
/** A slot held without a completion is free again after this long (the breaker's probe lease too). */
export const DEFAULT_JOB_TIMEOUT_SEC = 900;
/** The longest completion time a table may state (a week: the longest run a signal may report). */
export const MAX_ETA_SEC = 7 * 24 * 3600;
const etaSeconds = () => z.int().check(z.positive(), z.lte(MAX_ETA_SEC));

/** How long a held job waits for a slot unless its rule says (`maxHoldSec`). */
export const DEFAULT_MAX_HOLD_SEC = 900;
/** The longest hold a rule may declare: a day (a held job's content must outlive it). */
export const MAX_HOLD_SEC = 24 * 3600;

export const modelCapabilitiesSchema = z.strictObject({
  /** Inclusive bounds on the clip length. Absent: no limit declared. */
  minLengthSec: z.optional(positive()),
  maxLengthSec: z.optional(positive()),
  /** Absent: every resolution. */
  resolutions: z.optional(nonEmpty(resolution)),
  /** Whether the model can generate audio; absent means audio is not a declared limit. */
  audio: z.optional(z.boolean()),
  /** Price in credit units per second of output, used for the cost estimate. */
  pricePerSecond: z.number().check(z.nonnegative()),
  /** Cold-start completion time (seconds) until the model's run times are measured (src/routing/eta.ts). */
  defaultEtaSec: z.optional(etaSeconds()),
});

export const providerSchema = z.strictObject({
  /** Logical queue name announced in `video.job.routed` (the URL comes from configuration). */
  queue: z.string().check(z.minLength(1)),
  models: z
    .record(name, modelCapabilitiesSchema)
    .check(z.refine((m) => Object.keys(m).length > 0, 'no models')),
  /**
   * How many jobs the provider account runs at once (fal's IN_PROGRESS limit). Absent: unlimited,
   * no slot is taken (the default table, the seed's behaviour). A whole number, so every derived
   * count stays finite and exact.
   */
  concurrency: z.optional(z.int().check(z.positive(), z.lte(MAX_CONCURRENCY))),
  /**
   * How long a dispatched job may run before its slot is taken back although no completion came
   * (a lost report cannot leak a slot). Absent: DEFAULT_JOB_TIMEOUT_SEC.
   */
  jobTimeoutSec: z.optional(z.int().check(z.positive(), z.lte(24 * 3600))),
  /** Cold-start completion time (seconds) of the provider's models that declare none. */
  defaultEtaSec: z.optional(etaSeconds()),
});

export const ruleConditionsSchema = z.strictObject({
  /** Which `provider` values of the request this rule applies to: "auto" or declared providers. */
  requestedProvider: z.optional(nonEmpty(name)),
  tiers: z.optional(nonEmpty(z.string())),
  maxLengthSec: z.optional(positive()),
  minLengthSec: z.optional(positive()),
  resolutions: z.optional(nonEmpty(resolution)),
  audio: z.optional(z.boolean()),
});

export const ruleSchema = z.union([
  z.strictObject({
    id: name,
    description: z.string(),
    when: ruleConditionsSchema,
    route: z.strictObject({ provider: name, model: name }),
    /** When true, the user's balance must cover the estimated cost (a missing balance does not). */
    requireCredits: z._default(z.boolean(), false),
    /** Auto jobs only: tried in order when the route's provider is unhealthy or already tried. */
    fallbacks: z.optional(z.array(z.strictObject({ provider: name, model: name }))),
    /** Every candidate unhealthy: `route_primary` (panic mode, the default, recorded) or `reject`. */
    whenAllUnhealthy: z.optional(z.enum(['route_primary', 'reject'])),
    /**
     * Every candidate's provider full (its `concurrency` in flight): `hold` the job (the default: a
     * recorded deferral; it waits in the hold backlog and is decided again when a slot frees, or
     * after a bounded wait, never more than `concurrency` in flight), `reject` it at once with
     * `capacity_exhausted`, or `route_anyway` to the first one (recorded as an overflow, and its
     * slot still counted).
     */
    whenAllFull: z.optional(z.enum(['hold', 'reject', 'route_anyway'])),
    /** `hold` only: the longest a job of this rule waits for a slot (default DEFAULT_MAX_HOLD_SEC). */
    maxHoldSec: z.optional(z.int().check(z.positive(), z.lte(MAX_HOLD_SEC))),
    /**
     * `hold` only: what happens when a job is still held after `maxHoldSec`: `reject` with
     * `capacity_exhausted` (the default) or `route_anyway` to its first candidate (recorded overflow).
     */
    atMaxHold: z.optional(z.enum(['reject', 'route_anyway'])),
    /**
     * How an auto job picks among the route and its fallbacks: `order` (absent: as written, the
     * default), `eta` (the quote's p95 completion time, then p50) or `cost` (the estimated cost).
     */
    prefer: z.optional(z.enum(['order', 'eta', 'cost'])),
  }),
  z.strictObject({
    id: name,
    description: z.string(),
    when: ruleConditionsSchema,
    reject: z.enum(['no_route']),
  }),
]);

export const tierSchema = z.strictObject({
  /** Candidates whose quoted p95 completion time exceeds this are excluded (unless none is left). */
  maxEtaSec: z.optional(etaSeconds()),
});

export const routingTableSchema = z.strictObject({
  version: z.string().check(z.minLength(1)),
  providers: z.record(name, providerSchema),
  rules: nonEmpty(ruleSchema),
  /** Per tier (the request's `tier`): limits on the candidates (`maxEtaSec`). */
  tiers: z.optional(z.record(z.string().check(z.minLength(1), z.maxLength(64)), tierSchema)),
  /** US dollars per credit: turns the credit estimate into a quote's `costEstimateUsd`. */
  usdPerCredit: z.optional(z.number().check(z.nonnegative(), z.lte(1_000_000))),
  /** Samples a measured completion time needs before it replaces the default (src/routing/eta.ts). */
  etaMinSamples: z.optional(z.int().check(z.positive(), z.lte(1_000_000))),
});

export type RoutingTable = z.output<typeof routingTableSchema>;
export type RoutingRule = RoutingTable['rules'][number];
export type RouteRule = Extract<RoutingRule, { route: unknown }>;
export type ModelCapabilities = z.output<typeof modelCapabilitiesSchema>;
export type RuleConditions = z.output<typeof ruleConditionsSchema>;

export class InvalidRoutingTableError extends RoutingManagerError {
  /** Every problem, one line each: `<path>: <what is wrong, with the allowed values>`. */
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super('invalid_routing_table', `Invalid routing table:\n  ${issues.join('\n  ')}`);
    this.name = 'InvalidRoutingTableError';
    this.issues = issues;
  }
}

/**
 * Every problem of a candidate table at once: the schema's issues and the cross-checks the schema
 * cannot express (duplicate rule ids, routes to undeclared models). The cross-checks read the raw
 * input defensively, so they report even when the schema already failed elsewhere.
 */
export function routingTableProblems(input: unknown): string[] {
  const parsed = routingTableSchema.safeParse(input, { reportInput: true });
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((issue) => describeIssue(issue, []));
  return [...new Set([...problems, ...crossCheckProblems(input)])];
}

/** Validates a table from any source; throws InvalidRoutingTableError listing every problem. */
export function loadRoutingTable(input: unknown): RoutingTable {
  const problems = routingTableProblems(input);
  if (problems.length > 0) throw new InvalidRoutingTableError(problems);
  return routingTableSchema.parse(input);
}

/**
 * The table as canonical JSON (sorted keys, defaults filled): what is stored and hashed. The text is
 * safe-stable-stringify's for a JSON value (src/intake/canonical-json.ts), so stored content ids hold.
 */
export const canonicalTableJson = (table: RoutingTable): string => canonicalJson(table).text as string;

const versions = new WeakMap<RoutingTable, string>();

/**
 * The content id of a table: its label and the first 16 hex digits of the SHA-256 of its canonical
 * JSON (`2026-11-25.seed-1@3f0c…`). Every decision records it, so a decision names the exact rules
 * that made it even when two tables share a label. Memoised per table object: decide() asks per job.
 */
export function rulesVersionOf(table: RoutingTable): string {
  let version = versions.get(table);
  if (version === undefined) {
    const hash = createHash('sha256').update(canonicalTableJson(table)).digest('hex').slice(0, 16);
    version = `${table.version}@${hash}`;
    versions.set(table, version);
  }
  return version;
}

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

const objectOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

function crossCheckProblems(input: unknown): string[] {
  const table = objectOf(input);
  const rules = table?.rules;
  if (!Array.isArray(rules)) return [];
  const providers = objectOf(table?.providers) ?? {};
  const problems: string[] = [];
  const firstIndexOf = new Map<string, number>();
  rules.forEach((raw, index) => {
    const rule = objectOf(raw);
    if (!rule) return;
    if (typeof rule.id === 'string') {
      const first = firstIndexOf.get(rule.id);
      if (first !== undefined) {
        problems.push(
          `${formatPath(['rules', index, 'id'])}: duplicate rule id "${rule.id}" (also rules[${first}])`,
        );
      } else firstIndexOf.set(rule.id, index);
    }
    if (!('route' in rule) && !('reject' in rule)) {
      problems.push(`${formatPath(['rules', index])}: needs "route" (provider and model) or "reject"`);
    }
    const requested = objectOf(rule.when)?.requestedProvider;
    (Array.isArray(requested) ? requested : []).forEach((provider, at) => {
      // The set of providers a request may name is the table's own: "auto" or a declared one.
      if (typeof provider === 'string' && provider !== AUTO_PROVIDER && !Object.hasOwn(providers, provider)) {
        problems.push(
          `${formatPath(['rules', index, 'when', 'requestedProvider', at])}: "${provider}" is not ${AUTO_PROVIDER} or a declared provider (${listOf(Object.keys(providers))})`,
        );
      }
    });
    const fallbacks = Array.isArray(rule.fallbacks) ? rule.fallbacks : [];
    const targets: [Path, unknown][] = [
      [['rules', index, 'route'], rule.route],
      ...fallbacks.map((fallback, i): [Path, unknown] => [['rules', index, 'fallbacks', i], fallback]),
    ];
    for (const [at, raw] of targets) problems.push(...targetProblems(at, objectOf(raw), providers));
  });
  return problems;
}

function targetProblems(
  at: Path,
  route: Record<string, unknown> | undefined,
  providers: Record<string, unknown>,
): string[] {
  if (typeof route?.provider !== 'string' || typeof route.model !== 'string') return [];
  const provider = objectOf(providers[route.provider]);
  const models = objectOf(provider?.models);
  if (!provider) {
    return [
      `${formatPath([...at, 'provider'])}: "${route.provider}" is not a declared provider (${listOf(Object.keys(providers))})`,
    ];
  }
  if (!models?.[route.model]) {
    return [
      `${formatPath([...at, 'model'])}: "${route.model}" is not a model of ${route.provider} (${listOf(Object.keys(models ?? {}))})`,
    ];
  }
  return [];
}

const listOf = (values: readonly unknown[]): string =>
  values.length === 0 ? 'none declared' : values.map(String).join(', ');

/** `rules[2].when.resolutions[0]`, `providers.fal.models["wan-2.1-i2v"]`. */
export function formatPath(path: Path): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(String(key))) text += text === '' ? String(key) : `.${String(key)}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text === '' ? '(table)' : text;
}

function shown(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function describeIssue(issue: Issue, prefix: Path): string[] {
  const path = [...prefix, ...issue.path];
  const at = formatPath(path);
  switch (issue.code) {
    case 'invalid_union': {
      // A rule is a route or a reject: report the branch the input came closest to.
      const branches = issue.errors.filter((branch) => branch.length > 0);
      const closest = [...branches].sort((a, b) => a.length - b.length)[0] ?? [];
      return closest
        .filter(
          (inner) => !(inner.code === 'invalid_type' && inner.input === undefined && isRouteOrReject(inner)),
        )
        .filter((inner) => !(inner.code === 'unrecognized_keys' && inner.keys.every(isRouteOrRejectKey)))
        .flatMap((inner) => describeIssue(inner, path));
    }
    case 'invalid_value':
      return [`${at}: ${shown(issue.input)} is not one of ${issue.values.map(String).join(', ')}`];
    case 'unrecognized_keys':
      return issue.keys.map(
        (key) => `${formatPath([...path, key])}: unknown field (allowed: ${listOf(allowedKeys(path))})`,
      );
    case 'invalid_type':
      return [
        issue.input === undefined
          ? `${at}: missing (expected ${issue.expected})`
          : `${at}: expected ${issue.expected}, got ${shown(issue.input)}`,
      ];
    case 'too_small':
      return [
        `${at}: ${boundText(issue.origin, 'at least', 'more than', issue.minimum, issue.inclusive, issue.input)}`,
      ];
    case 'too_big':
      return [
        `${at}: ${boundText(issue.origin, 'at most', 'less than', issue.maximum, issue.inclusive, issue.input)}`,
      ];
    case 'invalid_format':
      return [`${at}: ${shown(issue.input)} ${issue.message}`];
    case 'invalid_key':
      return issue.issues.flatMap((inner) => describeIssue({ ...inner, path: [] } as Issue, path));
    default:
      return [`${at}: ${issue.message}`];
  }
}

const isRouteOrRejectKey = (key: string): boolean => key === 'route' || key === 'reject';
const isRouteOrReject = (issue: Issue): boolean =>
  issue.path.length === 1 && isRouteOrRejectKey(String(issue.path[0]));

function boundText(
  origin: string,
  inclusiveWord: string,
  exclusiveWord: string,
  bound: number | bigint,
  inclusive: boolean | undefined,
  input: unknown,
): string {
  const word = inclusive === false ? exclusiveWord : inclusiveWord;
  if (origin === 'array' || origin === 'set') return `needs ${word} ${bound} item(s)`;
  if (origin === 'string') return `needs ${word} ${bound} character(s)`;
  return `${shown(input)} must be ${word} ${bound}`;
}

/** The fields a table object at this path may have, for "unknown field" messages. */
function allowedKeys(path: Path): string[] {
  const keys = (schema: z.ZodMiniObject) => Object.keys(schema.shape);
  const [first, , third] = path;
  if (path.length === 0) return keys(routingTableSchema);
  if (first === 'providers' && path.length === 2) return keys(providerSchema);
  if (first === 'providers' && third === 'models' && path.length === 4) return keys(modelCapabilitiesSchema);
  if (first === 'rules' && path.length === 2)
    return [...new Set(ruleSchema.def.options.flatMap((option) => keys(option)))];
  if (first === 'rules' && third === 'when' && path.length === 3) return keys(ruleConditionsSchema);
  if (first === 'rules' && third === 'route' && path.length === 3) return ['provider', 'model'];
  if (first === 'tiers' && path.length === 2) return keys(tierSchema);
  return [];
}
