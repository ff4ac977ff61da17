/**
 * The table probe port: what the heartbeat's self-check learns about the log table (exists, status,
 * stream). Adapter: src/aws/dynamodb-table-probe.ts.
 */

/** What a probe learned about a table; `missing` means the table does not exist. */
export type TableDescription =
  | { readonly kind: 'missing' }
  | {
      readonly kind: 'found';
      /** DynamoDB TableStatus, e.g. ACTIVE, UPDATING, CREATING, DELETING, ARCHIVED. */
      readonly status: string;
      readonly streamEnabled: boolean;
      /** StreamViewType, e.g. NEW_IMAGE; undefined when the stream is disabled. */
      readonly streamViewType: string | undefined;
    };

export interface TableProbe {
  /** Resolves `missing` for a non-existent table; rejects on any other failure (access, network). */
  describe(tableName: string): Promise<TableDescription>;
}
