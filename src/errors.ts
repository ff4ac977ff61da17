/**
 * The Routing Manager's errors. Every error this code throws is a `RoutingManagerError`: callers
 * branch with `instanceof` (never on `error.name` or the message), and a dashboard, a log query
 * or an exit code groups by its `reason` — a short, stable, snake_case string. The subclasses
 * live beside the code that throws them (one class per failure a caller may treat differently);
 * the ones shared by several modules are here.
 *
 * Messages name things (tables, streams, versions, settings), never user content: an error's
 * message reaches log lines and operators' terminals (src/observability/content-free-message.ts).
 * A wrapped failure is passed as `{ cause }`, so nothing of the original is lost and nothing of it
 * is copied into the message.
 *
 * Errors of the AWS SDK are matched with the SDK's own exported classes
 * (`error instanceof ConditionalCheckFailedException`), in the adapter that calls the API.
 */
export class RoutingManagerError extends Error {
  /** Machine-readable and stable: what callers, metrics and log queries group by. */
  readonly reason: string;

  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
    // Set explicitly by each subclass too: bundles are minified, so a class's own name is not kept.
    this.name = 'RoutingManagerError';
  }
}

/**
 * An append found its expected version taken: another writer appended to the stream since it
 * was read. The command that hit it reads the stream again and decides again (handleCommand).
 */
export class VersionConflictError extends RoutingManagerError {
  readonly stream: string;
  /**
   * The version the append expected to be free; null for an append that expected none (a health
   * store's markers-only append, ANY_VERSION), refused because a record it carries exists already.
   */
  readonly version: number | null;
  /**
   * What the store found at that version, when it says so at no extra cost (DynamoDB returns the
   * item with a failed condition): the next read step may use it instead of reading again.
   */
  readonly existing: unknown;

  constructor(
    stream: string,
    version: number | null,
    options?: ErrorOptions & { readonly existing?: unknown },
  ) {
    super(
      'version_conflict',
      version === null
        ? `an append to ${stream} carried records another writer had written`
        : `version ${version} of ${stream} was taken by another writer`,
      options,
    );
    this.name = 'VersionConflictError';
    this.stream = stream;
    this.version = version;
    this.existing = options?.existing;
  }
}

/**
 * A command lost every attempt to a concurrent writer (each a VersionConflictError, the last one
 * its `cause`). Nothing was appended; running the command again is safe.
 */
export class CommandContendedError extends RoutingManagerError {
  readonly stream: string;
  readonly attempts: number;

  constructor(conflict: VersionConflictError, attempts: number) {
    super('contended', `${conflict.stream} changed under ${attempts} attempts; run the command again`, {
      cause: conflict,
    });
    this.name = 'CommandContendedError';
    this.stream = conflict.stream;
    this.attempts = attempts;
  }
}
