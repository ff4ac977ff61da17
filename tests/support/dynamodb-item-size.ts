/**
 * The size DynamoDB charges an item against its 400 KB limit, from the marshalled item, following
 * the documented rules: names and strings in UTF-8 bytes, numbers up to 21 bytes, 1 byte for a
 * boolean or null, 3 bytes per list or map plus 1 byte per element.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { RoutingLogRecord } from '../../src/log/routing-records.ts';
import { storedItemOf } from '../../src/log/stored-records.ts';

export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined)
    return Math.min(21, Math.ceil(value.N.replace(/[-.]|e.*$/gi, '').length / 2) + 1);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  if (value.M !== undefined) {
    return (
      3 +
      Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + utf8(name) + valueSize(element), 0)
    );
  }
  if (value.SS !== undefined) return value.SS.reduce((sum, text) => sum + utf8(text), 0);
  if (value.NS !== undefined) return value.NS.length * 21;
  throw new Error('attribute value of an unmeasured type');
}

const isLogRecord = (value: object): value is RoutingLogRecord =>
  'type' in value && 'data' in value && 'metadata' in value;

/**
 * Bytes of `item` as DynamoDB stores it (marshalled exactly as the document client does); a
 * routing-log record is measured as the item the adapters put for it (`storedItemOf`).
 */
export function dynamoDbItemSize(given: object): number {
  const item = isLogRecord(given) ? storedItemOf(given) : given;
  const marshalled = marshall(item, { removeUndefinedValues: true });
  return Object.entries(marshalled).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}
