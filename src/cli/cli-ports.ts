/**
 * The CLI's composition root: `context.ports()` hands a verb every adapter it may use, built once per
 * run over the run's one DynamoDB document client and the tables its global options name. A verb
 * never constructs an adapter itself; `context.client(...)` remains for the services that have no
 * port (CloudWatch and SQS for `projector`, EventBridge for `submit`). Each adapter is built on first
 * use, so a verb that never reaches AWS (`rules validate`, a usage error) resolves no region and
 * creates no client.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAuditIndex } from '../aws/dynamodb-audit-index.ts';
import { DynamoDbContentVault } from '../aws/dynamodb-content-vault.ts';
import { DynamoDbCreditBalances } from '../aws/dynamodb-credit-balances.ts';
import { DynamoDbEffectMarkers } from '../aws/dynamodb-effect-markers.ts';
import { DynamoDbJobStatusReader } from '../aws/dynamodb-job-status-reader.ts';
import { DynamoDbJobsTable } from '../aws/dynamodb-jobs-table.ts';
import { DynamoDbProviderHealthStore } from '../aws/dynamodb-provider-health-store.ts';
import { DynamoDbRoutingLog } from '../aws/dynamodb-routing-log.ts';
import { DynamoDbRulesLog } from '../aws/dynamodb-rules-log.ts';
import { DynamoDbSignalWindows } from '../aws/dynamodb-signal-windows.ts';
import { DynamoDbSlotLedger } from '../aws/dynamodb-slot-ledger.ts';
import type { ContentKeyRing } from '../content/content-key-ring.ts';
import type { AuditIndex } from '../ports/audit-index.ts';
import type { ContentVault } from '../ports/content-vault.ts';
import type { CreditBalances } from '../ports/credit-balances.ts';
import type { EffectMarkers } from '../ports/effect-markers.ts';
import type { JobStatusReader } from '../ports/job-status-reader.ts';
import type { JobsTable } from '../ports/jobs-table.ts';
import type { ProviderHealthStore } from '../ports/provider-health-store.ts';
import type { RoutingLog } from '../ports/routing-log.ts';
import type { RulesLog } from '../ports/rules-log.ts';
import type { SignalWindowStore } from '../ports/signal-windows.ts';
import type { SlotLedger } from '../ports/slot-ledger.ts';
import { RecordedCompletion } from '../projections/effect-completion.ts';
import { WINDOW_MS } from '../provider-health/signal-windows.ts';

/** The projector's EFFECT_MARKER_TTL_DAYS default (template.yaml). */
export const DEFAULT_MARKER_TTL_DAYS = 7;

export interface CliPortsSource {
  readonly documents: () => DynamoDBDocumentClient;
  readonly tables: {
    readonly log: string;
    readonly credits: string;
    readonly content: string;
    readonly jobs: string;
    readonly effects: string;
  };
  readonly contentKeyRing: (vault: ContentVault) => ContentKeyRing;
  readonly now: () => Date;
}

/** Every port the CLI's verbs use, each built once, on first use. */
export class CliPorts {
  readonly #source: CliPortsSource;
  readonly #built = new Map<string, unknown>();

  constructor(source: CliPortsSource) {
    this.#source = source;
  }

  #once<T>(key: string, build: (documents: DynamoDBDocumentClient) => T): T {
    if (!this.#built.has(key)) this.#built.set(key, build(this.#source.documents()));
    return this.#built.get(key) as T;
  }

  /** The routing log's job streams (`RoutingLog-<stage>`). */
  get log(): RoutingLog {
    return this.#once('log', (documents) => new DynamoDbRoutingLog(documents, this.#source.tables.log));
  }

  /** The `rules#routing` stream of the same table. */
  get rules(): RulesLog {
    return this.#once('rules', (documents) => new DynamoDbRulesLog(documents, this.#source.tables.log));
  }

  /** The log's audit index (`byProviderTimeKeys`). */
  get decisions(): AuditIndex {
    return this.#once('decisions', (documents) => new DynamoDbAuditIndex(documents, this.#source.tables.log));
  }

  get credits(): CreditBalances {
    return this.#once(
      'credits',
      (documents) => new DynamoDbCreditBalances(documents, this.#source.tables.credits),
    );
  }

  /** `RoutingContent-<stage>`: the retained content and the transit keys that seal it. */
  get content(): ContentVault {
    return this.#once(
      'content',
      (documents) => new DynamoDbContentVault(documents, this.#source.tables.content),
    );
  }

  /** The stage's transit keys, unwrapped with KMS (`history --show-content`, replay, re-drive). */
  get contentKeys(): ContentKeyRing {
    return this.#once('contentKeys', () => this.#source.contentKeyRing(this.content));
  }

  get jobStatus(): JobStatusReader {
    return this.#once(
      'jobStatus',
      (documents) => new DynamoDbJobStatusReader(documents, this.#source.tables.jobs),
    );
  }

  /**
   * What the projector recorded as complete: its markers, and the Jobs item that holds a record's
   * version. Read only — the markers' TTL option matters for writes, which the CLI never makes.
   */
  get completion(): Pick<EffectMarkers, 'read'> {
    return this.#once(
      'completion',
      (documents) =>
        new RecordedCompletion(
          new DynamoDbEffectMarkers(documents, this.#source.tables.effects, {
            ttlDays: DEFAULT_MARKER_TTL_DAYS,
            now: this.#source.now,
          }),
          new DynamoDbJobsTable(documents, this.#source.tables.jobs) as JobsTable,
        ),
    );
  }

  /** `ProviderHealth-<stage>` (or the table named): the breakers and the slot ledger. */
  providerHealth(table: string): {
    readonly store: ProviderHealthStore;
    readonly slots: SlotLedger;
    /** The signal windows (`window#…` items): what `capacity` and `what-if` read completion times from. */
    readonly windows: SignalWindowStore;
  } {
    return this.#once(`health:${table}`, (documents) => ({
      store: new DynamoDbProviderHealthStore(documents, { health: table, log: this.#source.tables.log }),
      slots: new DynamoDbSlotLedger(documents, table),
      windows: new DynamoDbSignalWindows(documents, table, { windowMs: WINDOW_MS }),
    }));
  }
}
