/**
 * The routing table is data: a provider catalogue and an ordered list of rules. It is validated
 * by this schema whether it comes from the typed default (default-table.ts) or from a JSON file
 * (the what-if CLI), so a bad table fails loudly at load time, never during a decision.
 */
import * as z from 'zod';
import { PROVIDER_CHOICES, RESOLUTIONS } from '../intake/submission.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/);

export const modelCapabilitiesSchema = z.strictObject({
  /** Inclusive bounds on the clip length. Absent: no limit declared. */
  minLengthSec: z.number().positive().optional(),
  maxLengthSec: z.number().positive().optional(),
  /** Absent: every resolution. */
  resolutions: z.array(z.enum(RESOLUTIONS)).nonempty().optional(),
  /** Whether the model can generate audio; absent means audio is not a declared limit. */
  audio: z.boolean().optional(),
  /** Price in credit units per second of output, used for the cost estimate. */
  pricePerSecond: z.number().nonnegative(),
});

export const providerSchema = z.strictObject({
  /** Logical queue name announced in `video.job.routed` (the URL comes from configuration). */
  queue: z.string().min(1),
  models: z.record(name, modelCapabilitiesSchema).refine((m) => Object.keys(m).length > 0, 'no models'),
});

export const ruleConditionsSchema = z.strictObject({
  /** Which `provider` values of the request this rule applies to ("auto" or an explicit one). */
  requestedProvider: z.array(z.enum(PROVIDER_CHOICES)).nonempty().optional(),
  tiers: z.array(z.string()).nonempty().optional(),
  maxLengthSec: z.number().positive().optional(),
  minLengthSec: z.number().positive().optional(),
  resolutions: z.array(z.enum(RESOLUTIONS)).nonempty().optional(),
  audio: z.boolean().optional(),
});

export const ruleSchema = z.union([
  z.strictObject({
    id: name,
    description: z.string(),
    when: ruleConditionsSchema,
    route: z.strictObject({ provider: name, model: name }),
    /** When true, the user's balance must cover the estimated cost (a missing balance does not). */
    requireCredits: z.boolean().default(false),
  }),
  z.strictObject({
    id: name,
    description: z.string(),
    when: ruleConditionsSchema,
    reject: z.enum(['no_route']),
  }),
]);

export const routingTableSchema = z
  .strictObject({
    version: z.string().min(1),
    providers: z.record(name, providerSchema),
    rules: z.array(ruleSchema).nonempty(),
  })
  .superRefine((table, ctx) => {
    const seen = new Set<string>();
    table.rules.forEach((rule, index) => {
      if (seen.has(rule.id))
        ctx.addIssue({ code: 'custom', path: ['rules', index, 'id'], message: 'duplicate rule id' });
      seen.add(rule.id);
      if ('route' in rule) {
        const provider = table.providers[rule.route.provider];
        if (!provider?.models[rule.route.model]) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'route'],
            message: `unknown provider/model ${rule.route.provider}/${rule.route.model}`,
          });
        }
      }
    });
  });

export type RoutingTable = z.output<typeof routingTableSchema>;
export type RoutingRule = RoutingTable['rules'][number];
export type RouteRule = Extract<RoutingRule, { route: unknown }>;
export type ModelCapabilities = z.output<typeof modelCapabilitiesSchema>;
export type RuleConditions = z.output<typeof ruleConditionsSchema>;

export class InvalidRoutingTableError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`Invalid routing table:\n  ${issues.join('\n  ')}`);
    this.name = 'InvalidRoutingTableError';
    this.issues = issues;
  }
}

/** Validates a table from any source; throws InvalidRoutingTableError listing every problem. */
export function loadRoutingTable(input: unknown): RoutingTable {
  const parsed = routingTableSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidRoutingTableError(
    parsed.error.issues.map((issue) => `${issue.path.join('.') || '(table)'}: ${issue.message}`),
  );
}
