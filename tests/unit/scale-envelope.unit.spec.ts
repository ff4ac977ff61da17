/**
 * The scale envelope (bench/scale-envelope.ts, docs/SCALE.md): each ceiling's arithmetic, the order
 * that names the first bottleneck, and the settings read from template.yaml.
 */
import { describe, expect, it } from 'vitest';
import type { ScaleCheckpoint, ScaleResult } from '../../bench/scale.ts';
import {
  ASSUMED_MS,
  DOCUMENTED_SIGNAL_PATH,
  decisionPathRows,
  envelope,
  envelopeBasis,
  renderEnvelope,
  templateSettings,
} from '../../bench/scale-envelope.ts';
import { decisionPath } from '../../bench/signals-envelope.ts';
import type { SidePerJob } from '../../bench/summary.ts';

const aSide = (overrides: Partial<SidePerJob> = {}): SidePerJob => ({
  calls: 0,
  byCommand: {},
  wru: 0,
  rru: 0,
  sqsRequests: 0,
  eventBridgeEvents: 0,
  logBytes: 0,
  lambdaInvocations: 0,
  invocationMs: 0,
  tables: {},
  ...overrides,
});

const aCheckpoint = (cpuMs: ScaleCheckpoint['cpuMs']): ScaleCheckpoint => ({
  jobs: 20_000,
  events: 10_000,
  router: aSide(),
  projector: aSide(),
  total: aSide({ eventBridgeEvents: 0.95, byCommand: { 'EventBridge.PutEvents': 0.095 } }),
  usdPerMillion: 6,
  logWruPerRecord: 3.6,
  recordsPerBatch: 95,
  recordsPerJob: 0.95,
  lost: 0,
  dispatchedTwice: 0,
  failedRecords: 0,
  seconds: 1,
  phaseSeconds: { route: 0, project: 0, check: 0 },
  cpuMs,
  rssMb: 0,
  heapMb: 0,
});

const defaults = {
  routerReservedConcurrency: 20,
  routerMemoryMb: 256,
  projectorMemoryMb: 256,
  batchSize: 100,
  parallelizationFactor: 1,
  signalBatchSize: 1,
};

describe('the scale envelope', () => {
  it('given segments of the same work measured under different machine load, when the envelope basis is taken, then it keeps the last segment’s counts and the least CPU of any segment', () => {
    const quiet = aCheckpoint({ routerPerEvent: 1.6, projectorPerBatch: 60 });
    const loaded = {
      ...aCheckpoint({ routerPerEvent: 2.4, projectorPerBatch: 48 }),
      jobs: 20_000,
      usdPerMillion: 7,
    };
    expect(envelopeBasis([{ ...quiet, jobs: 1_000 }, loaded])).toEqual({
      ...loaded,
      cpuMs: { routerPerEvent: 1.6, projectorPerBatch: 48 },
    });
    expect(envelopeBasis([])).toBeUndefined();
  });

  it('given template.yaml’s defaults and a router at 1.6 ms CPU per event, when the decision path is computed, then every ceiling the template sets clears 5,000 jobs/s', () => {
    const rows = envelope(aCheckpoint({ routerPerEvent: 1.6, projectorPerBatch: 48 }), templateSettings());
    const [first] = decisionPathRows(rows, DOCUMENTED_SIGNAL_PATH, 'template');
    expect(first?.limit).toMatch(/^router reserved concurrency 100/);
    expect(first?.jobsPerSecond).toBeGreaterThan(5000);
  });

  it('given the provider signals put on EventBridge one per request, when the decision path is computed at the account’s default quotas, then PutEvents binds first: 10,000 ÷ (1 + 0.095 + 2) per job', () => {
    const rows = envelope(aCheckpoint({ routerPerEvent: 1.6, projectorPerBatch: 48 }), templateSettings());
    const [first, second] = decisionPathRows(rows, 'eventbridge-each');
    expect(first).toMatchObject({ accountQuota: true });
    expect(first?.limit).toMatch(/^EventBridge PutEvents \(account\), signals on EventBridge, one per/);
    expect(first?.jobsPerSecond).toBeCloseTo(10_000 / 3.095, 3);
    expect(second?.limit).toMatch(/^EventBridge target invocations/);
  });

  it('given the signals put 10 to a PutEvents request, when the decision path is computed, then the target invocations bind instead — a rule still delivers every signal: 18,750 ÷ (1 + 0.95 + 2)', () => {
    const rows = envelope(aCheckpoint({ routerPerEvent: 1.6, projectorPerBatch: 48 }), templateSettings());
    const [first] = decisionPathRows(rows, 'eventbridge-batched');
    expect(first?.limit).toMatch(/^EventBridge target invocations \(account\), signals on EventBridge/);
    expect(first?.jobsPerSecond).toBeCloseTo(18_750 / 3.95, 3);
    const putEvents = rows.find((r) => r.signalPaths?.join() === 'eventbridge-batched');
    expect(putEvents?.jobsPerSecond).toBeCloseTo(10_000 / 1.295, 3);
  });

  it('given the signals sent straight to HealthSignalsQueue (the documented path), when the decision path is computed at the account’s default quotas, then no EventBridge row counts them and the router binds, above 5,000 jobs/s', () => {
    const rows = envelope(aCheckpoint({ routerPerEvent: 1.6, projectorPerBatch: 48 }), templateSettings());
    expect(DOCUMENTED_SIGNAL_PATH).toBe('direct');
    const direct = decisionPathRows(rows, 'direct');
    expect(direct[0]?.limit).toMatch(/^router reserved concurrency 100/);
    expect(direct[0]?.jobsPerSecond).toBeGreaterThan(5000);
    const eventBridge = direct.filter((r) => r.accountQuota).map((r) => r.jobsPerSecond);
    expect(eventBridge[0]).toBeCloseTo(10_000 / 1.095, 3);
    expect(eventBridge[1]).toBeCloseTo(18_750 / 1.95, 3);
    // Each path's rows only: the direct path never meets a row that counts signals on the bus.
    expect(direct.some((r) => r.signalPaths?.includes('eventbridge-each'))).toBe(false);
  });

  it('given the envelope, when rendered, then it names the documented path’s first bottleneck and the decision path of every signal path', () => {
    const text = renderEnvelope(
      aCheckpoint({ routerPerEvent: 1.6, projectorPerBatch: 48 }),
      templateSettings(),
    );
    expect(text).toMatch(
      /First bottleneck of the decision path, signals sent straight to HealthSignalsQueue \(SendMessageBatch\) \(the documented path\): router reserved concurrency 100/,
    );
    expect(text).toMatch(/one per PutEvents request ≈ 3,231 \(EventBridge PutEvents \(account\), signals/);
    expect(text).toMatch(/10 per PutEvents request ≈ 4,747 \(EventBridge target invocations/);
    expect(text).toMatch(
      /\(SendMessageBatch\) \(documented\) ≈ [6-9],\d{3} \(router reserved concurrency 100/,
    );
  });

  it('given a scale run, when the bench’s decision-path rows are computed, then the documented path’s is the router’s, each other path is bound by EventBridge, and the template’s own figure is the same router’s', () => {
    const scale = {
      checkpoints: [aCheckpoint({ routerPerEvent: 1.6, projectorPerBatch: 48 })],
    } as unknown as ScaleResult;
    const t = templateSettings();
    expect(decisionPath(scale)?.limit).toMatch(/^router reserved concurrency/);
    expect(decisionPath(scale, t, 'account', 'eventbridge-each')?.jobsPerSecond).toBeCloseTo(
      10_000 / 3.095,
      3,
    );
    expect(decisionPath(scale, t, 'account', 'eventbridge-batched')?.jobsPerSecond).toBeCloseTo(
      18_750 / 3.95,
      3,
    );
    expect(decisionPath(scale, t, 'template')).toEqual(decisionPath(scale));
    expect(decisionPath(undefined)).toBeUndefined();
  });

  it('given template.yaml, when its settings are read, then they are the defaults the envelope assumes', () => {
    expect(templateSettings()).toMatchObject({
      routerReservedConcurrency: 100,
      batchSize: 100,
      parallelizationFactor: 10,
      signalBatchSize: 100,
    });
  });

  it('given a keys-only audit index (1 WRU per index item) and fal at 70 % of jobs, when the audit ceiling is computed, then it is 8 partitions × 1,000 WRU ÷ 1 ÷ (0.70 × 0.95)', () => {
    const audit = envelope(aCheckpoint({ routerPerEvent: 1, projectorPerBatch: 40 }), defaults).find((r) =>
      r.limit.startsWith('audit index'),
    );
    expect(audit?.jobsPerSecond).toBeCloseTo(8000 / 1 / (0.7 * 0.95), 0);
  });

  it('given the router CPU per event, when the router ceiling is computed, then it is the reserved concurrency over PutItem plus CPU scaled to 256 MB', () => {
    const router = envelope(aCheckpoint({ routerPerEvent: 1, projectorPerBatch: 40 }), defaults)[0];
    const routerMs = ASSUMED_MS.putItem + (1 * 1769) / 256;
    expect(router?.jobsPerSecond).toBeCloseTo((20 * 1000) / routerMs, 6);
  });

  it('given a slower projector than router, when rendered, then the projector is named first and the router next', () => {
    const text = renderEnvelope(aCheckpoint({ routerPerEvent: 0.5, projectorPerBatch: 80 }), defaults);
    expect(text).toMatch(/First bottleneck of the decision path, .* \(the documented path\): projector/);
    expect(text).toMatch(/Next: router reserved concurrency 20/);
  });

  it('given successes raising a 16-item success register once a batch, when rendered, then the health row is 16 × 1,000 × batch ÷ 1 ÷ 70 % and not named as the decision path’s bottleneck', () => {
    const rows = envelope(aCheckpoint({ routerPerEvent: 1, projectorPerBatch: 40 }), defaults);
    const health = rows.find((r) => r.offPath);
    expect(health?.jobsPerSecond).toBeCloseTo((16 * 1000) / 1 / 0.7, 6);
    const batched = envelope(aCheckpoint({ routerPerEvent: 1, projectorPerBatch: 40 }), {
      ...defaults,
      signalBatchSize: 100,
    }).find((r) => r.offPath);
    expect(batched?.jobsPerSecond).toBeCloseTo((16 * 1000 * 100) / 1 / 0.7, 6);
    expect(renderEnvelope(aCheckpoint({ routerPerEvent: 1, projectorPerBatch: 40 }), defaults)).not.toMatch(
      /\(the documented path\): health/,
    );
  });
});
