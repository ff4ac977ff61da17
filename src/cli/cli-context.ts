/**
 * What every `routing-manager` command shares: where output goes, which tables it works on, the
 * DynamoDB client, and the typed errors that decide the exit code.
 *
 * Exit codes (docs/REPLAY_AND_AUDIT.md#exit-codes): 0 ok · 1 runtime or AWS error · 2 usage error ·
 * 3 not found (the job asked for has no record) · 4 refused (a gate said no; nothing changed).
 */
import { userInfo } from 'node:os';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../aws/clients.ts';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;
/** A guarded change was refused (e.g. `rules publish` by its what-if gate): nothing changed. */
export const EXIT_REFUSED = 4;

export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Where table names and the default stage come from (process.env in production). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now?: () => Date;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class JobNotFoundError extends Error {
  readonly jobId: string;
  constructor(jobId: string, tableName: string) {
    super(`no routing record for job ${jobId} in table ${tableName}`);
    this.name = 'JobNotFoundError';
    this.jobId = jobId;
  }
}

export class TableNotFoundError extends Error {
  readonly tableName: string;
  constructor(tableName: string, region: string) {
    super(
      `table ${tableName} not found in region ${region}; check --stage (or --log-table, EVENT_LOG_TABLE)`,
    );
    this.name = 'TableNotFoundError';
    this.tableName = tableName;
  }
}

export interface GlobalOptions {
  readonly stage?: string;
  readonly logTable?: string;
  readonly jobsTable?: string;
  readonly creditsTable?: string;
  readonly contentTable?: string;
  readonly region?: string;
}

export interface TableNames {
  readonly stage: string;
  readonly log: string;
  readonly jobs: string;
  readonly credits: string;
  readonly content: string;
}

export const DEFAULT_STAGE = 'dev';

/**
 * Table names: an explicit flag wins; then an explicit `--stage`; then the environment the
 * handlers use (EVENT_LOG_TABLE, JOBS_TABLE, CREDITS_TABLE — what `npm run local -- --keep`
 * prints); then `<Name>-<stage>` with STAGE or `dev`.
 */
export function tableNames(options: GlobalOptions, env: CliIo['env']): TableNames {
  const stage = options.stage ?? env.STAGE ?? DEFAULT_STAGE;
  const pick = (flag: string | undefined, variable: string, name: string) =>
    flag ?? (options.stage === undefined ? env[variable] : undefined) ?? `${name}-${stage}`;
  return {
    stage,
    log: pick(options.logTable, 'EVENT_LOG_TABLE', 'RoutingLog'),
    jobs: pick(options.jobsTable, 'JOBS_TABLE', 'Jobs'),
    credits: pick(options.creditsTable, 'CREDITS_TABLE', 'Credits'),
    content: pick(options.contentTable, 'CONTENT_TABLE', 'RoutingContent'),
  };
}

export class CliContext {
  readonly io: CliIo;
  readonly tables: TableNames;
  /** Set by a command that finished but could not do all it was asked (e.g. replay contention). */
  exitCode: number = EXIT_OK;
  readonly #region: string | undefined;
  #documents: DynamoDBDocumentClient | null = null;

  constructor(io: CliIo, options: GlobalOptions) {
    this.io = io;
    this.tables = tableNames(options, io.env);
    this.#region = options.region;
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

  get documents(): DynamoDBDocumentClient {
    if (!this.#documents) {
      this.#documents = createDocumentClient(this.#region ? { region: this.#region } : {});
    }
    return this.#documents;
  }

  /** Runs an operation on a table, turning "no such table" into an error that names it. */
  async onTable<T>(tableName: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        throw new TableNotFoundError(tableName, await this.region());
      }
      throw error;
    }
  }

  async region(): Promise<string> {
    try {
      return (await this.#documents?.config.region()) ?? this.#region ?? this.io.env.AWS_REGION ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }

  destroy(): void {
    this.#documents?.destroy();
  }
}
