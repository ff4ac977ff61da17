import { describe, expect, it } from 'vitest';
import { healthChangedRecord } from '../../src/log/routing-records.ts';
import { HEALTH_CHANGED_DETAIL_TYPE, planEffects } from '../../src/projections/effects.ts';
import { aTransition } from '../support/provider-health-contract.ts';

describe('planning the effects of a ProviderHealthChanged record', () => {
  it('given a transition record, then the plan only announces video.provider.health.changed with a stable id', () => {
    const record = healthChangedRecord(aTransition('fal', 3, { key: 'fal#wan-i2v', model: 'wan-i2v' }));
    const plan = planEffects(record);
    expect(plan).toMatchObject({
      effectId: 'health#fal#wan-i2v:v3',
      jobId: null,
      recordType: 'ProviderHealthChanged',
      dispatch: null,
      jobStatus: null,
      announcement: {
        detailType: HEALTH_CHANGED_DETAIL_TYPE,
        detail: {
          provider: 'fal',
          model: 'wan-i2v',
          version: 3,
          status: 'open',
          announcementId: 'health#fal#wan-i2v:v3:announce',
        },
      },
    });
    expect(planEffects(record)).toEqual(plan);
  });
});
