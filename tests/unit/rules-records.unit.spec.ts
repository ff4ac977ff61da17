/**
 * Rules records as `{ type, data, metadata }`, stored in the log's one-level layout: what is
 * written, how items as earlier code wrote them read back (checked against their schema version,
 * never rewritten), and the rules stream's fold over them.
 */
import { describe, expect, it } from 'vitest';
import {
  CorruptRulesRecordError,
  RULES_STREAM,
  rulesItemOf,
  rulesRecordFromItem,
  rulesStateOf,
} from '../../src/log/rules-records.ts';
import { OLD_RULES_ITEMS, OLD_RULES_VERSIONS } from '../support/old-format-rules-items.ts';
import { aTableRoutingAutoTo, publish, rulesRecordsOf } from '../support/rules.ts';

const [firstItem, rollbackItem, forcedItem, shadowItem, canaryItem] = OLD_RULES_ITEMS as [
  Record<string, unknown>,
  Record<string, unknown>,
  Record<string, unknown>,
  Record<string, unknown>,
  Record<string, unknown>,
];

describe('rules records: items as earlier code wrote them', () => {
  it('given a forced publication item of schemaVersion 1, when read, then its metadata and its data are apart', () => {
    expect(rulesRecordFromItem(forcedItem)).toEqual({
      type: 'RulesPublished',
      data: {
        action: 'publish',
        by: forcedItem.by,
        why: forcedItem.why,
        subject: OLD_RULES_VERSIONS.active,
        forced: true,
        gate: forcedItem.gate,
        active: forcedItem.active,
        shadow: null,
        canary: null,
        previous: [null],
      },
      metadata: {
        stream: RULES_STREAM,
        version: 3,
        recordedAt: forcedItem.recordedAt,
        schemaVersion: 1,
        jobId: null,
      },
    });
  });

  it('given every old item, when read and stored again, then the item is the same, attribute for attribute', () => {
    for (const item of OLD_RULES_ITEMS) expect(rulesItemOf(rulesRecordFromItem(item))).toEqual(item);
  });

  it('given a change decided now, when stored, then its item has exactly the attributes earlier items have', () => {
    const [record] = rulesRecordsOf([publish(aTableRoutingAutoTo('replicate'))]);
    const item = rulesItemOf(record as never);
    expect(Object.keys(item).sort()).toEqual(Object.keys(firstItem).sort());
    expect(item).toMatchObject({ stream: RULES_STREAM, version: 1, schemaVersion: 1, jobId: null });
  });

  it('given the old items, when folded, then the state is the canary item’s, with every table ever stored and the one that ran in shadow', () => {
    const state = rulesStateOf(OLD_RULES_ITEMS.map(rulesRecordFromItem));
    expect(state).toMatchObject({
      version: 5,
      active: { rulesVersion: OLD_RULES_VERSIONS.active },
      shadow: { rulesVersion: OLD_RULES_VERSIONS.shadow },
      canary: { rulesVersion: OLD_RULES_VERSIONS.canary, percent: 12.5 },
      previous: [null],
    });
    expect([...state.tables.keys()]).toEqual([
      OLD_RULES_VERSIONS.first,
      OLD_RULES_VERSIONS.active,
      OLD_RULES_VERSIONS.shadow,
      OLD_RULES_VERSIONS.canary,
    ]);
    expect(state.tables.get(OLD_RULES_VERSIONS.first)?.version).toBe(1);
    expect([...state.shadowed]).toEqual([OLD_RULES_VERSIONS.shadow]);
    expect(rulesStateOf([rulesRecordFromItem(rollbackItem)])).toMatchObject({ version: 2, active: null });
  });
});

describe('rules records: items that are not readable', () => {
  it('given an item of a schema version not known, when read, then it is a corrupt rules record naming the version', () => {
    expect(() => rulesRecordFromItem({ ...shadowItem, schemaVersion: 2 })).toThrow(
      /unsupported rules schemaVersion 2/,
    );
  });

  it('given an item of another stream or type, when read, then it is not a rules record', () => {
    expect(() => rulesRecordFromItem({ ...shadowItem, stream: 'job#j1' })).toThrow(/not a rules record/);
    expect(() => rulesRecordFromItem({ ...shadowItem, type: 'RoutingDecided' })).toThrow(
      CorruptRulesRecordError,
    );
  });

  it('given an item whose canary share or table is not of its schema, when read, then the error names the field, not the value', () => {
    const badShare = () =>
      rulesRecordFromItem({ ...canaryItem, canary: { ...(canaryItem.canary as object), percent: 0 } });
    expect(badShare).toThrow(CorruptRulesRecordError);
    expect(badShare).toThrow(/rules record 5: canary\.percent/);
    const secret = 'user-secret-prompt';
    const badTable = () => rulesRecordFromItem({ ...shadowItem, shadow: { rulesVersion: secret, table: 7 } });
    expect(badTable).toThrow(/shadow\.table/);
    try {
      badTable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
      expect(error).toMatchObject({ reason: 'corrupt_rules_record', stream: RULES_STREAM, version: 4 });
    }
  });

  it('given an item without an attribute every item has, when read, then it is refused rather than read as the default', () => {
    const { previous: _previous, ...withoutPrevious } = firstItem;
    expect(() => rulesRecordFromItem(withoutPrevious)).toThrow(/previous/);
  });
});
