/**
 * Reads `Credits-<Stage>` (owned by the CreditReconciler agent): key `userId`, numeric `balance`.
 * A missing item, or one without a numeric balance, is "no credit record" (null); a balance beyond
 * Number.MAX_SAFE_INTEGER is read as the nearest double.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { CreditBalances } from '../ports/credit-balances.ts';

export class DynamoDbCreditBalances implements CreditBalances {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async balanceOf(userId: string): Promise<number | null> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: { userId },
        ProjectionExpression: 'balance',
        ConsistentRead: true,
      }),
    );
    const balance: unknown = Item?.balance;
    // The SDK unmarshals an integer beyond Number.MAX_SAFE_INTEGER as a bigint: still a balance (the
    // decision bounds it, src/routing/cost.ts), not "no credit record".
    if (typeof balance === 'bigint') return Number(balance);
    return typeof balance === 'number' && Number.isFinite(balance) ? balance : null;
  }
}
