/**
 * How a routing-log record is stored, and read back (Emmett's upcasting: an item keeps the schema
 * version it was written with and is read into the current record shape, never rewritten).
 *
 * A record is `{ type, data, metadata }` in code; an item has always been one level — metadata and
 * data side by side under `type` — and stays so, so items already in a deployed table read as they
 * did. The audit index's keys (`gsi1pk`, `gsi1sk`) are added here to a decision at the top of the
 * table and dropped on read: storage, never a field of a record.
 *
 * - schemaVersion 1: the explanation's candidate trail as one map per candidate. Such items are
 *   still read as they are: their record shape is the current one.
 * - schemaVersion 2 (written now): nothing stored that the rest of the item already says.
 *   - The explanation is `{ v: rulesVersion, m: matchedRule, q: requestedProvider, t: trail }`
 *     (its rarer fields keep their names); `q` is left out when it is the job's own `provider`.
 *   - The trail is compact tuples, `[rule, provider, model, verdict, reason, detail, breaker,
 *     healthVersion, flags]`, verdicts as one letter, trailing empties cut; a candidate's quote rides
 *     on its verdict letter, `s|<etaP50Sec>/<etaP95Sec>/<costEstimateUsd>/<slotsFree>/<basis
 *     letter><samples>` with empty parts for null (`s|180/840/0.42/3/s12`, `x|600/600///d`), so a
 *     quoted candidate costs no extra tuple slots; a `not_preferred` detail that only compares its
 *     p95 with the selected candidate's is rendered again on read; a detail that only
 *     repeats a fact of the job (`provider auto`, `tier pro`, `resolution 1080p`) is rendered again
 *     on read from the job's facts.
 *   - `jobId` is left out when the stream (`job#<jobId>`, or `event#…` for none) says it; `outcome`
 *     follows from the type; an empty `fieldErrors` and a `requestedProvider` equal to the
 *     explanation's are left out; the payload hash is stored as bytes (a keyed `k1:` hash as a tag byte
 *     and its 32 bytes, a legacy SHA-256 as its 32 bytes) instead of text.
 *   A map per candidate alone spent ~45 bytes of attribute names: a routed decision under the
 *   default table was ~1,060–1,250 bytes, 2 write units where 1 KB is 1 (docs/COST.md). `history`
 *   and `what-if` read the same records back, sentences included.
 *
 * Nested copies (a replay's or revision's decision, a re-drive's target) are encoded by their own
 * schemaVersion, so a v2 replay of a decision first stored as v1 reads back exactly as it was.
 */
import { RoutingManagerError } from '../errors.ts';
import type { CandidateVerdict, ExclusionReason, Explanation } from '../routing/decide.ts';
import type { CandidateQuote, EtaBasis } from '../routing/eta.ts';
import {
  auditKeysOf,
  type DecisionRecord,
  isDecision,
  RECORD_SCHEMA_VERSION,
  type RoutingLogRecord,
} from './routing-records.ts';

/** The first schema version whose trail is stored as tuples. */
const COMPACT_TRAIL_SCHEMA_VERSION = 2;
const READABLE_VERSIONS: ReadonlySet<unknown> = new Set([
  1,
  COMPACT_TRAIL_SCHEMA_VERSION,
  RECORD_SCHEMA_VERSION,
]);

export class UnsupportedRecordError extends RoutingManagerError {
  readonly record: unknown;
  constructor(message: string, record: unknown) {
    super('unsupported_record', message);
    this.name = 'UnsupportedRecordError';
    this.record = record;
  }
}

const VERDICT_CODES = { selected: 's', excluded: 'x', rejects: 'r' } as const;
const VERDICTS: Readonly<Record<string, CandidateVerdict['verdict']>> = {
  s: 'selected',
  x: 'excluded',
  r: 'rejects',
};

/** One candidate as stored: positional, nulls for absent fields, trailing nulls cut. */
type CandidateTuple = readonly (string | number | null)[];

/** The job's facts a detail may repeat (the decision's `job`, parsed; empty when it is not JSON). */
type JobFacts = Readonly<Record<string, unknown>>;

function jobFactsOf(job: unknown): JobFacts {
  if (typeof job !== 'string') return {};
  try {
    const facts = JSON.parse(job) as unknown;
    return typeof facts === 'object' && facts !== null ? (facts as JobFacts) : {};
  } catch {
    return {};
  }
}

/** Details that only repeat one fact of the job (src/routing/decide.ts): rendered, not stored. */
const FACT_OF_REASON: Readonly<Partial<Record<ExclusionReason, string>>> = {
  requested_provider_mismatch: 'provider',
  tier_mismatch: 'tier',
  resolution_mismatch: 'resolution',
};

function renderedDetail(reason: unknown, facts: JobFacts): string | undefined {
  const field = FACT_OF_REASON[reason as ExclusionReason];
  const value = field ? facts[field] : undefined;
  return field && (typeof value === 'string' || typeof value === 'number') ? `${field} ${value}` : undefined;
}

const BASIS_CODES: Readonly<Record<EtaBasis, string>> = {
  segment: 's',
  model: 'm',
  provider: 'p',
  default: 'd',
};
const BASES: Readonly<Record<string, EtaBasis>> = { s: 'segment', m: 'model', p: 'provider', d: 'default' };

/** A quote as one short string (about 12–20 bytes instead of a map's ~90). */
export function quoteText(quote: CandidateQuote): string {
  const samples = quote.basis === 'default' ? '' : String(quote.samples);
  return [
    quote.etaP50Sec,
    quote.etaP95Sec,
    quote.costEstimateUsd ?? '',
    quote.slotsFree ?? '',
    `${BASIS_CODES[quote.basis]}${samples}`,
  ].join('/');
}

const finiteOrNull = (text: string | undefined): number | null => {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
};

/** The quote a stored string says; undefined when it is not one (never throws on a stored value). */
export function quoteFromText(text: unknown): CandidateQuote | undefined {
  if (typeof text !== 'string') return undefined;
  const [p50, p95, cost, slots, basisText = ''] = text.split('/');
  const basis = BASES[basisText.slice(0, 1)];
  const etaP50Sec = finiteOrNull(p50);
  const etaP95Sec = finiteOrNull(p95);
  if (!basis || etaP50Sec === null || etaP95Sec === null) return undefined;
  return {
    etaP50Sec,
    etaP95Sec,
    costEstimateUsd: finiteOrNull(cost),
    slotsFree: finiteOrNull(slots),
    basis,
    samples: finiteOrNull(basisText.slice(1)) ?? 0,
  };
}

/** `p95 840s vs 180s`: why an eta-preferring rule passed a candidate over (src/routing/decide.ts). */
export const notPreferredDetail = (own: CandidateQuote, taken: CandidateQuote): string =>
  `p95 ${own.etaP95Sec}s vs ${taken.etaP95Sec}s`;

/** The quote of the candidate each rule selected: what a passed-over candidate's detail compares with. */
function selectedQuotes(candidates: readonly CandidateVerdict[]): Map<string, CandidateQuote> {
  return new Map(
    candidates.flatMap((c) => (c.verdict === 'selected' && c.quote ? [[c.rule, c.quote] as const] : [])),
  );
}

function derivableDetail(candidate: CandidateVerdict, facts: JobFacts, taken: CandidateQuote | undefined) {
  if (candidate.reason === 'not_preferred' && candidate.quote && taken) {
    return notPreferredDetail(candidate.quote, taken);
  }
  return renderedDetail(candidate.reason, facts);
}

function candidateTuple(
  candidate: CandidateVerdict,
  facts: JobFacts,
  taken: CandidateQuote | undefined,
): CandidateTuple {
  const flags = `${candidate.probe ? 'p' : ''}${candidate.healthIgnored ? 'i' : ''}`;
  const derived =
    candidate.detail !== undefined && candidate.detail === derivableDetail(candidate, facts, taken);
  const code = VERDICT_CODES[candidate.verdict];
  const tuple: (string | number | null)[] = [
    candidate.rule,
    candidate.provider,
    candidate.model,
    candidate.quote ? `${code}|${quoteText(candidate.quote)}` : code,
    candidate.reason ?? null,
    derived ? null : (candidate.detail ?? null),
    candidate.breaker ?? null,
    candidate.healthVersion ?? null,
    flags || null,
  ];
  while (tuple.length > 4 && tuple.at(-1) === null) tuple.pop();
  return tuple;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function candidateOf(tuple: unknown, facts: JobFacts, item: unknown): CandidateVerdict {
  if (!Array.isArray(tuple) || tuple.length < 4 || typeof tuple[0] !== 'string') {
    throw new UnsupportedRecordError('a candidate of the stored trail is not a tuple', item);
  }
  const [rule, provider, model, code, reason, detail, breaker, healthVersion, flags] = tuple as unknown[];
  const [letter = '', quoted] = String(code).split('|', 2);
  const verdict = VERDICTS[letter];
  if (!verdict)
    throw new UnsupportedRecordError('a candidate of the stored trail has no known verdict', item);
  const quote = quoteFromText(quoted);
  const flagText = text(flags) ?? '';
  const shownDetail = text(detail) ?? renderedDetail(reason, facts);
  return {
    rule: rule as string,
    provider: text(provider),
    model: text(model),
    verdict,
    ...(text(reason) ? { reason: reason as ExclusionReason } : {}),
    ...(shownDetail !== undefined && shownDetail !== null ? { detail: shownDetail } : {}),
    ...(text(breaker) ? { breaker: breaker as string } : {}),
    ...(typeof healthVersion === 'number' ? { healthVersion } : {}),
    ...(flagText.includes('i') ? { healthIgnored: true as const } : {}),
    ...(flagText.includes('p') ? { probe: true as const } : {}),
    ...(quote ? { quote } : {}),
  };
}

/** A passed-over candidate's detail, when it was left out as derivable, rendered from the quotes. */
function withPassedOverDetails(candidates: CandidateVerdict[]): CandidateVerdict[] {
  const taken = selectedQuotes(candidates);
  return candidates.map((candidate) => {
    const selected = taken.get(candidate.rule);
    return candidate.reason === 'not_preferred' &&
      candidate.detail === undefined &&
      candidate.quote &&
      selected
      ? { ...candidate, detail: notPreferredDetail(candidate.quote, selected) }
      : candidate;
  });
}

/** The explanation's frequent fields under one-letter names (the rarer ones keep theirs). */
interface StoredExplanation
  extends Omit<Explanation, 'rulesVersion' | 'matchedRule' | 'requestedProvider' | 'candidates'> {
  readonly v: string;
  readonly m: string | null;
  /** Absent: the job's own `provider`. */
  readonly q?: string;
  readonly t: readonly CandidateTuple[];
}

function storedExplanation(explanation: Explanation, facts: JobFacts): StoredExplanation {
  const { rulesVersion, matchedRule, requestedProvider, candidates, ...rest } = explanation;
  const taken = selectedQuotes(candidates);
  return {
    ...rest,
    v: rulesVersion,
    m: matchedRule,
    ...(requestedProvider === facts.provider ? {} : { q: requestedProvider }),
    t: candidates.map((candidate) => candidateTuple(candidate, facts, taken.get(candidate.rule))),
  };
}

function explanationOf(stored: Record<string, unknown>, facts: JobFacts, item: unknown): Explanation {
  const { v, m, q, t, ...rest } = stored;
  if (!Array.isArray(t)) throw new UnsupportedRecordError('the stored candidate trail is not a list', item);
  return {
    ...rest,
    rulesVersion: v as string,
    matchedRule: (m ?? null) as string | null,
    requestedProvider: (q ?? facts.provider) as string,
    candidates: withPassedOverDetails(t.map((tuple) => candidateOf(tuple, facts, item))),
  } as Explanation;
}

/** The jobId a stream's name says: `job#<jobId>` → jobId; any other stream → null. */
const jobIdOfStream = (stream: unknown): string | null =>
  typeof stream === 'string' && stream.startsWith('job#') ? stream.slice(4) : null;

/** Drops what every stored record of version 2 can derive: a jobId its stream says. */
function withoutDerivable(record: Record<string, unknown>): Record<string, unknown> {
  if (record.jobId !== jobIdOfStream(record.stream)) return record;
  const { jobId: _jobId, ...rest } = record;
  return rest;
}

function withDerived(item: Record<string, unknown>): Record<string, unknown> {
  return 'jobId' in item ? { ...item } : { ...item, jobId: jobIdOfStream(item.stream) };
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** A keyed payload hash (src/content/payload-hasher.ts): `k1:` + 32 bytes in base64url. */
const KEYED_HASH = /^k1:([A-Za-z0-9_-]{43})$/;
const KEYED_HASH_TAG = 1;

/** The payload hash as bytes: 32 for a legacy SHA-256 (hex), a tag byte + 32 for a keyed one. */
function storedHash(hash: string): string | Uint8Array {
  if (HEX_SHA256.test(hash)) return Buffer.from(hash, 'hex');
  const keyed = KEYED_HASH.exec(hash)?.[1];
  const bytes = keyed === undefined ? null : Buffer.from(keyed, 'base64url');
  // Only a canonical encoding is packed, so reading it back gives exactly the same text.
  if (bytes?.length === 32 && bytes.toString('base64url') === keyed) {
    return Buffer.concat([Buffer.from([KEYED_HASH_TAG]), bytes]);
  }
  return hash;
}

function hashFromItem(stored: unknown, item: unknown): unknown {
  if (!(stored instanceof Uint8Array)) return stored;
  const bytes = Buffer.from(stored);
  if (bytes.length === 32) return bytes.toString('hex');
  if (bytes.length === 33 && bytes[0] === KEYED_HASH_TAG)
    return `k1:${bytes.subarray(1).toString('base64url')}`;
  throw new UnsupportedRecordError(`a stored payload hash of ${bytes.length} bytes`, item);
}

/** A record of any stream of the log: a `{ type, data, metadata }` (src/log/routing-records.ts LogRecord). */
interface AnyLogRecord {
  readonly type: string;
  readonly data: object;
  readonly metadata: object;
}

/**
 * A record in the layout every item has been stored in: its metadata and its data side by side under
 * its type (one level: a copied record inside stays as it is). Every stream's records are stored so
 * (the rules stream's too: src/log/rules-records.ts).
 */
export function layoutOf(record: AnyLogRecord): Record<string, unknown> {
  return { ...record.metadata, type: record.type, ...record.data };
}

/**
 * The record a one-level layout holds: the fields named as metadata apart from the data, under its
 * type (what `layoutOf` put side by side). Values are not checked here: the caller's schema does.
 */
export function splitLayout(
  layout: Record<string, unknown>,
  metadataFields: readonly string[],
): { type: unknown; data: Record<string, unknown>; metadata: Record<string, unknown> } {
  const { type, ...data } = layout;
  const metadata: Record<string, unknown> = {};
  for (const field of metadataFields) {
    if (!(field in data)) continue;
    metadata[field] = data[field];
    delete data[field];
  }
  return { type, data, metadata };
}

/**
 * The layout of a record and of the records it copies: how a version 1 record is stored as it is,
 * and the one-level shape outside contracts show a record in (`history --json`, docs/EVENT_SCHEMA.md).
 */
export function layoutDeep(record: RoutingLogRecord): Record<string, unknown> {
  const item = layoutOf(record);
  if (record.type === 'ProjectionReplayRequested' || record.type === 'RoutingRevised')
    item.decision = layoutDeep(record.data.decision);
  if (record.type === 'ProjectionRedriveRequested') item.target = layoutDeep(record.data.target);
  return item;
}

function storedDecision(decision: DecisionRecord): Record<string, unknown> {
  if (decision.metadata.schemaVersion < COMPACT_TRAIL_SCHEMA_VERSION) return layoutDeep(decision);
  const { outcome: _outcome, ...item } = layoutOf(decision);
  item.payloadHash = storedHash(decision.metadata.payloadHash);
  const { data } = decision;
  if (decision.type === 'RoutingRejected') {
    if (decision.data.fieldErrors.length === 0) delete item.fieldErrors;
    if (decision.data.requestedProvider === decision.data.explanation?.requestedProvider)
      delete item.requestedProvider;
  }
  if (data.explanation) item.explanation = storedExplanation(data.explanation, jobFactsOf(data.job));
  return withoutDerivable(item);
}

/**
 * The audit index's attributes of a stored decision (the `byProviderTimeKeys` GSI's keys, template.yaml).
 * Only an item at the top of the table carries them: a decision copied into a replay, revision or
 * re-drive is not filed again (the GSI is sparse, and a nested map is never a key anyway).
 */
function auditIndexAttributes(decision: DecisionRecord): { gsi1pk: string; gsi1sk: string } {
  const keys = auditKeysOf(decision);
  return { gsi1pk: keys.partition, gsi1sk: keys.sort };
}

/** Attributes of a stored item that are storage only, never part of the record read back. */
const STORAGE_ONLY_ATTRIBUTES = ['gsi1pk', 'gsi1sk'] as const;

/**
 * The item to put for a record (the document client marshals it): the one mapping from a record to
 * what the table holds — its metadata and data in one flat layout, compacted, and its index keys.
 */
export function storedItemOf(record: RoutingLogRecord): Record<string, unknown> {
  const item = storedBodyOf(record);
  return isDecision(record) ? { ...item, ...auditIndexAttributes(record) } : item;
}

function storedBodyOf(record: RoutingLogRecord): Record<string, unknown> {
  if (record.metadata.schemaVersion < COMPACT_TRAIL_SCHEMA_VERSION) return layoutDeep(record);
  switch (record.type) {
    case 'RoutingDecided':
    case 'RoutingRejected':
      return storedDecision(record);
    case 'ProjectionReplayRequested':
    case 'RoutingRevised':
      return withoutDerivable({ ...layoutOf(record), decision: storedDecision(record.data.decision) });
    case 'ProjectionRedriveRequested':
      return withoutDerivable({ ...layoutOf(record), target: storedBodyOf(record.data.target) });
    default:
      return withoutDerivable(layoutOf(record));
  }
}

function decisionFromItem(stored: Record<string, unknown>, item: unknown): Record<string, unknown> {
  if (stored.schemaVersion !== COMPACT_TRAIL_SCHEMA_VERSION) return { ...stored };
  const decision = withDerived(stored);
  const rejected = stored.type === 'RoutingRejected';
  decision.outcome = rejected ? 'rejected' : 'routed';
  decision.payloadHash = hashFromItem(stored.payloadHash, item);
  const facts = jobFactsOf(stored.job);
  // Each field is read by its shape, so an item written in the record's own shape reads as well.
  const explanation = !isObject(stored.explanation)
    ? null
    : 'candidates' in stored.explanation
      ? (stored.explanation as unknown as Explanation)
      : explanationOf(stored.explanation, facts, item);
  if (explanation) decision.explanation = explanation;
  if (rejected) {
    decision.fieldErrors ??= [];
    decision.requestedProvider ??= explanation?.requestedProvider;
  }
  return decision;
}

/** What is about the record, not the job: every record's, and a submission's provenance. */
export const METADATA_FIELDS = ['stream', 'version', 'recordedAt', 'schemaVersion', 'jobId'] as const;
const SUBMISSION_METADATA_FIELDS = ['eventId', 'submittedAt', 'payloadHash'] as const;
const SUBMISSION_TYPES: ReadonlySet<unknown> = new Set([
  'RoutingDecided',
  'RoutingRejected',
  'RoutingDeferred',
]);

/** The record a stored layout (read and upcast) holds: metadata apart from data, copies likewise. */
function recordOfLayout(layout: Record<string, unknown>): RoutingLogRecord {
  const fields = SUBMISSION_TYPES.has(layout.type)
    ? [...METADATA_FIELDS, ...SUBMISSION_METADATA_FIELDS]
    : METADATA_FIELDS;
  const { type, data, metadata } = splitLayout(layout, fields);
  if ((type === 'ProjectionReplayRequested' || type === 'RoutingRevised') && isObject(data.decision))
    data.decision = recordOfLayout(data.decision);
  if (type === 'ProjectionRedriveRequested' && isObject(data.target))
    data.target = recordOfLayout(data.target);
  return { type, data, metadata } as unknown as RoutingLogRecord;
}

// A stored item can hold anything; describing it must never throw (String() can, on a map) and
// never repeat content into a log line: only a short token is shown as it is.
export const describeValue = (value: unknown): string => {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value)) return value;
  return typeof value === 'string' ? `<string of ${value.length} characters>` : `<${typeof value}>`;
};

const KNOWN_TYPES = new Set([
  'RoutingDecided',
  'RoutingRejected',
  'ProjectionReplayRequested',
  'ProjectionRedriveRequested',
  'ContentErased',
  'ProviderHealthChanged',
  'RoutingRevised',
  'DispatchOutcomeRecorded',
  'RoutingDeferred',
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a stored item as a record of the current shape (`{ type, data, metadata }`), upcasting older
 * schema versions (never rewritten in the table) and leaving out storage-only attributes; an
 * unknown type or a future version is a typed error. The one mapping from what the table holds to a
 * record: every adapter and the projector's stream decoding read through it.
 */
export function recordFromItem(item: Record<string, unknown>): RoutingLogRecord {
  return recordOfLayout(upcast(withoutStorageAttributes(item), true));
}

/**
 * The item without its storage-only attributes. Items written before the index keys were derived
 * here also carry them on the decisions they copy (a replay's `decision`, a re-drive's `target`).
 */
function withoutStorageAttributes(item: Record<string, unknown>): Record<string, unknown> {
  const body = { ...item };
  for (const name of STORAGE_ONLY_ATTRIBUTES) delete body[name];
  for (const nested of ['decision', 'target'] as const) {
    if (isObject(body[nested])) body[nested] = withoutStorageAttributes(body[nested]);
  }
  return body;
}

/** `outer`: false for a re-drive's target, which is never itself a re-drive (one level, however the item looks). */
function upcast(item: Record<string, unknown>, outer: boolean): Record<string, unknown> {
  if (typeof item.type !== 'string' || !KNOWN_TYPES.has(item.type)) {
    throw new UnsupportedRecordError(`unknown record type ${describeValue(item.type)}`, item);
  }
  if (!READABLE_VERSIONS.has(item.schemaVersion)) {
    throw new UnsupportedRecordError(`unsupported schemaVersion ${describeValue(item.schemaVersion)}`, item);
  }
  if (item.type === 'RoutingDecided' || item.type === 'RoutingRejected') return decisionFromItem(item, item);
  const record = item.schemaVersion === COMPACT_TRAIL_SCHEMA_VERSION ? withDerived(item) : { ...item };
  if (item.type === 'ProjectionReplayRequested' || item.type === 'RoutingRevised') {
    if (isObject(item.decision)) record.decision = decisionFromItem(item.decision, item);
  } else if (item.type === 'ProjectionRedriveRequested') {
    if (!outer) throw new UnsupportedRecordError('a re-drive target is itself a re-drive', item);
    if (isObject(item.target)) record.target = upcast(item.target, false);
  }
  return record;
}
