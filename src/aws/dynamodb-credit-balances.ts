/**
 * Reads `Credits-<Stage>` (owned by the CreditReconciler agent): key `userId`, numeric `balance`.
 * A missing item, or one without a numeric balance, is "no credit record" (null).
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
    const balance = Item?.balance;
    return typeof balance === 'number' && Number.isFinite(balance) ? balance : null;
  }
}
