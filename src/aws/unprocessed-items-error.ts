/**
 * What every batch adapter throws when DynamoDB still left items unprocessed after its rounds
 * (BatchGetItem's UnprocessedKeys, BatchWriteItem's UnprocessedItems): how many, and whether reading
 * or writing. Each table names its own subclass and reason, so a caller or a log query can tell
 * which table was throttled; the message counts items and never quotes one.
 */
import { RoutingManagerError } from '../errors.ts';

export abstract class UnprocessedItemsError extends RoutingManagerError {
  readonly operation: 'read' | 'write';
  readonly unprocessed: number;

  protected constructor(reason: string, items: string, operation: 'read' | 'write', unprocessed: number) {
    super(reason, `${unprocessed} ${items} left unprocessed by DynamoDB after retries (${operation})`);
    this.operation = operation;
    this.unprocessed = unprocessed;
  }
}
