/**
 * What every `routing-manager` command shares: where output goes and in which format, which tables
 * it works on, where its AWS calls go (profile, region, endpoint), and the typed errors that decide
 * the exit code. A command gets one with `contextOf(command)` (src/cli/main.ts) and takes its
 * adapters from `context.ports()` (built once, over clients made with the global options); a service
 * without a port gets its SDK client through `context.client(...)`.
 */

import { userInfo } from 'node:os';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, sdkClientDefaults } from '../aws/clients.ts';
import { KmsKeyService } from '../aws/kms-key-service.ts';
import { STAGE_PATTERN } from '../config/load-config.ts';
import { ContentKeyRing } from '../content/content-key-ring.ts';
import { RoutingManagerError } from '../errors.ts';
import { EXIT_OK } from '../exit-codes.ts';
import type { ContentKeyTable } from '../ports/content-vault.ts';
import { type AwsOptions, type AwsSettings, resolveAwsSettings } from './aws-settings.ts';
import { CliPorts } from './cli-ports.ts';

export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Where table names, the default stage and AWS settings come from (process.env in production). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now?: () => Date;
  /** Ends a long-running verb (`console`) when aborted; without it, Ctrl-C / SIGTERM does. */
  readonly stop?: AbortSignal;
  /** The process's own run: a Ctrl-C during replay/redrive/forget prints how to resume (src/cli/main.ts). */
  readonly interrupts?: boolean;
}

export class UsageError extends RoutingManagerError {
  constructor(message: string, options?: ErrorOptions) {
    super('usage', message, options);
    this.name = 'UsageError';
  }
}

export class JobNotFoundError extends RoutingManagerError {
  readonly jobId: string;
  constructor(jobId: string, tableName: string, message?: string) {
    super('job_not_found', message ?? `no routing record for job ${jobId} in table ${tableName}`);
    this.name = 'JobNotFoundError';
    this.jobId = jobId;
  }
}

export class TableNotFoundError extends RoutingManagerError {
  readonly tableName: string;
  constructor(tableName: string, region: string, options?: ErrorOptions) {
    super(
      'table_not_found',
      `table ${tableName} not found in region ${region}; check --stage (or --log-table, EVENT_LOG_TABLE)`,
      options,
    );
    this.name = 'TableNotFoundError';
    this.tableName = tableName;
  }
}

export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The options every command accepts, before or after its name (src/cli/main.ts). */
export interface GlobalOptions extends AwsOptions {
  readonly stage?: string;
  readonly logTable?: string;
  readonly jobsTable?: string;
  readonly creditsTable?: string;
  readonly effectsTable?: string;
  readonly contentTable?: string;
  readonly output?: OutputFormat;
  /** Alias of `--output json`. */
  readonly json?: boolean;
}

export interface TableNames {
  readonly stage: string;
  readonly log: string;
  readonly jobs: string;
  readonly credits: string;
  readonly content: string;
  /** Completion markers of the projector (`RoutingEffects-<stage>`), read by `redrive`. */
  readonly effects: string;
}

export const DEFAULT_STAGE = 'dev';

/** The stage of this run, checked like template.yaml's `Stage` parameter. */
export function stageOf(options: GlobalOptions, env: CliIo['env']): string {
  const stage = options.stage ?? env.STAGE ?? DEFAULT_STAGE;
  if (!STAGE_PATTERN.test(stage)) {
    const from = options.stage === undefined ? 'STAGE' : '--stage';
    throw new UsageError(
      `${from} "${stage}" is not a stage: a lower-case letter, then 1 to 11 lower-case letters or digits (dev, prod, local)`,
    );
  }
  return stage;
}

/**
 * Table names: an explicit flag wins; then an explicit `--stage`; then the environment the
 * handlers use (EVENT_LOG_TABLE, JOBS_TABLE, CREDITS_TABLE — what `npm run local -- --keep`
 * prints); then `<Name>-<stage>` with STAGE or `dev`.
 */
export function tableNames(options: GlobalOptions, env: CliIo['env']): TableNames {
  const stage = stageOf(options, env);
  const pick = (flag: string | undefined, variable: string, name: string) =>
    flag ?? (options.stage === undefined ? env[variable] : undefined) ?? `${name}-${stage}`;
  return {
    stage,
    log: pick(options.logTable, 'EVENT_LOG_TABLE', 'RoutingLog'),
    jobs: pick(options.jobsTable, 'JOBS_TABLE', 'Jobs'),
    credits: pick(options.creditsTable, 'CREDITS_TABLE', 'Credits'),
    content: pick(options.contentTable, 'CONTENT_TABLE', 'RoutingContent'),
    effects: pick(options.effectsTable, 'EFFECTS_TABLE', 'RoutingEffects'),
  };
}

export const outputFormatOf = (options: GlobalOptions): OutputFormat =>
  options.json ? 'json' : (options.output ?? 'table');

/** The configuration every SDK client of a command is created with. */
export interface AwsClientConfig {
  readonly region: string;
  readonly profile?: string;
  readonly endpoint?: string;
  readonly maxAttempts: number;
}

export class CliContext {
  readonly io: CliIo;
  readonly tables: TableNames;
  readonly output: OutputFormat;
  /** Set by a command that finished but could not do all it was asked (e.g. replay contention). */
  exitCode: number = EXIT_OK;
  /** The verb this context runs for (`replay`, `rules`…), so a failure can say how to resume it. */
  verb = '';
  /** How far a long-running verb got (its jobs done of all), as its handler last reported. */
  progress: { readonly done: number; readonly total: number } | null = null;
  readonly #options: GlobalOptions;
  #aws: AwsSettings | null = null;
  #documents: DynamoDBDocumentClient | null = null;
  #ports: CliPorts | null = null;
  readonly #clients: { destroy(): void }[] = [];

  constructor(io: CliIo, options: GlobalOptions) {
    this.io = io;
    this.#options = options;
    this.tables = tableNames(options, io.env);
    this.output = outputFormatOf(options);
  }

  get json(): boolean {
    return this.output === 'json';
  }

  now(): Date {
    return this.io.now ? this.io.now() : new Date();
  }

  /** Who asks, as recorded with a replay or an erasure: `--by`, else the OS user. */
  operator(by?: string): string {
    if (by) return by;
    if (this.io.env.USER) return this.io.env.USER;
    try {
      return userInfo().username;
    } catch {
      return 'unknown';
    }
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Profile, region and endpoint; resolved on first use, so commands without AWS never need them. */
  get aws(): AwsSettings {
    this.#aws ??= resolveAwsSettings(this.#options, this.io.env);
    return this.#aws;
  }

  clientConfig(): AwsClientConfig {
    return { ...sdkClientDefaults, ...this.aws };
  }

  /** An SDK client with this run's settings, destroyed when the command ends. */
  client<T extends { destroy(): void }>(create: (config: AwsClientConfig) => T): T {
    const client = create(this.clientConfig());
    this.#clients.push(client);
    return client;
  }

  get documents(): DynamoDBDocumentClient {
    this.#documents ??= this.client((config) => createDocumentClient(config));
    return this.#documents;
  }

  /** `ProviderHealth-<stage>`, unless `--health-table` or PROVIDER_HEALTH_TABLE names another. */
  healthTable(option: string | undefined): string {
    return option ?? this.io.env.PROVIDER_HEALTH_TABLE ?? `ProviderHealth-${this.tables.stage}`;
  }

  /**
   * Every adapter a verb uses, built once for this run (src/cli/cli-ports.ts): the CLI's one
   * composition root. Nothing is created until a verb first uses an adapter.
   */
  ports(): CliPorts {
    this.#ports ??= new CliPorts({
      documents: () => this.documents,
      tables: this.tables,
      contentKeyRing: (table) => this.contentKeyRing(table),
      now: () => this.now(),
    });
    return this.#ports;
  }

  /**
   * The stage's transit keys, unwrapped with KMS `Decrypt` (what the stack's exported operators'
   * policy grants): for `history --show-content` and `replay`.
   */
  contentKeyRing(table: ContentKeyTable): ContentKeyRing {
    const kms = this.client((config) => new KmsKeyService({ clientConfig: config }));
    return new ContentKeyRing(table, kms, { stage: this.tables.stage });
  }

  /** Runs an operation on a table, turning "no such table" into an error that names it. */
  async onTable<T>(tableName: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new TableNotFoundError(tableName, this.#regionOrUnknown(), { cause: error });
      }
      throw error;
    }
  }

  #regionOrUnknown(): string {
    try {
      return this.aws.region;
    } catch {
      return 'unknown';
    }
  }

  /** The settings the calls used; null before the first client was created. */
  settingsInUse(): AwsSettings | null {
    return this.#aws;
  }

  /** The endpoint the calls went to, when one was set (--endpoint-url, AWS_ENDPOINT_URL[_DYNAMODB]). */
  endpoint(): string | undefined {
    const { env } = this.io;
    return this.#aws?.endpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL ?? undefined;
  }

  destroy(): void {
    for (const client of this.#clients) client.destroy();
  }
}
