/**
 * What the HealthSignals function logs and counts, kept out of its handler body: a refused signal,
 * a job-started measure, and each step of HandleProviderSignal as it is taken (so a committed step is
 * reported even if a later one throws and EventBridge retries — the retry would find it done and
 * report nothing). Facts only: ids, classes, versions; never a payload value (a refusal names the
 * fields at fault by path).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ProviderSignalStep } from '../commands/handle-provider-signal.ts';
import type { HealthTransition } from '../log/health-records.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import { errorClassKind } from '../provider-health/breaker.ts';
import { WINDOW_MS } from '../provider-health/signal-windows.ts';
import {
  type HealthSignal,
  type JobStarted,
  parseJobStarted,
  type SignalEvent,
  type SignalParseResult,
} from '../provider-health/signals.ts';

const eventIdOf = (event: SignalEvent): string | null => (typeof event.id === 'string' ? event.id : null);

type Refusal = { readonly outcome: 'refused'; readonly problem: string };

/** A signal that cannot be read: logged by path and counted; retrying cannot fix it. */
export function refuseSignal(
  event: SignalEvent,
  parsed: Extract<SignalParseResult, { ok: false }>,
  telemetry: Telemetry,
  { withPaths = true }: { readonly withPaths?: boolean } = {},
): Refusal {
  telemetry.logger.warn('health signal refused', {
    eventId: eventIdOf(event),
    problem: parsed.problem,
    paths: parsed.paths,
  });
  telemetry.metrics.addMetric('HealthSignalsRefused', MetricUnit.Count, 1);
  // The paths name the fields at fault (never their values), so a sender can fix the event.
  const where = withPaths && parsed.paths.length > 0 ? `: ${parsed.paths.join(', ')}` : '';
  return { outcome: 'refused', problem: `${parsed.problem}${where}` };
}

/**
 * `provider.job.started`: the provider began the job after `queueWaitMs` in its own queue. Recorded as
 * metrics by provider (`JobsStarted`, `QueueWaitMs`) for the dashboards; it changes no breaker and no
 * slot (the slot was taken at dispatch and is freed by the terminal report). A malformed one is
 * refused like any signal: logged by path, counted, never quoted.
 */
export function measureJobStarted(
  event: SignalEvent,
  telemetry: Telemetry,
):
  | Refusal
  | {
      readonly outcome: 'observed';
      readonly response: {
        readonly outcome: 'observed';
        readonly provider: string;
        readonly queueWaitMs: number;
      };
      readonly started: JobStarted;
    } {
  const parsed = parseJobStarted(event);
  if (!parsed.ok) return refuseSignal(event, parsed, telemetry, { withPaths: false });
  const { provider, queueWaitMs, jobId } = parsed.started;
  const single = telemetry.metrics.singleMetric();
  single.addDimensions({ provider });
  single.addMetric('JobsStarted', MetricUnit.Count, 1);
  single.addMetric('QueueWaitMs', MetricUnit.Milliseconds, queueWaitMs);
  telemetry.logger.debug('provider started a job', { eventId: parsed.eventId, provider, jobId, queueWaitMs });
  return {
    outcome: 'observed',
    response: { outcome: 'observed', provider, queueWaitMs },
    started: parsed.started,
  };
}

/**
 * A breaker's transitions, whoever caused them (a signal, or the failure-rate rule judging closed
 * windows): one log line and one `HealthTransitions` count each, so a dashboard and a log query see
 * every transition the same way. `withCause` names the signal behind it when the context does not.
 */
function reportTransitions(
  transitions: readonly HealthTransition[],
  context: Readonly<Record<string, string | null>>,
  { logger, metrics }: Telemetry,
  { withCause = false }: { readonly withCause?: boolean } = {},
): void {
  for (const t of transitions) {
    logger.info('provider health changed', {
      ...context,
      ...(withCause ? { causedBy: t.causedBy } : {}),
      version: t.version,
      from: t.previousStatus,
      to: t.status,
      mode: t.mode,
      reason: t.reason,
      openUntil: t.openUntil,
    });
    metrics.addMetric('HealthTransitions', MetricUnit.Count, 1);
  }
}

/**
 * The observer HandleProviderSignal reports its steps to. Made when the signal is read: an attempt
 * with an unclassified errorClass is made visible at once (it counts as provider-side, the safe rule
 * of src/provider-health/breaker.ts; the class is a consumer's label ≤ 64 characters, never content).
 */
export function signalReporter(
  event: SignalEvent,
  signal: HealthSignal | null,
  { logger, metrics }: Telemetry,
): (step: ProviderSignalStep) => void {
  const reported = signal?.command.type === 'RecordAttempt' ? signal.command.errorClass : null;
  if (signal && signal.attempt?.outcome !== 'succeeded' && errorClassKind(reported) === 'unclassified') {
    logger.warn('health signal with an unclassified errorClass', {
      eventId: signal.command.signalId,
      breaker: signal.key,
      errorClass: reported,
    });
    metrics.addMetric('UnclassifiedErrorClass', MetricUnit.Count, 1);
  }
  const base = {
    eventId: eventIdOf(event),
    signalId: signal?.command.signalId ?? null,
    breaker: signal?.key ?? null,
    command: signal?.command.type ?? null,
  };
  let outcome = '';
  return (step) => {
    const facts = { ...base, outcome };
    switch (step.type) {
      case 'HealthSignalRecorded': {
        const { result } = step;
        outcome = result.outcome;
        const recorded = { ...base, outcome };
        if (result.outcome === 'recorded' && result.transitions.length > 0) {
          reportTransitions(result.transitions, recorded, { logger, metrics });
        } else {
          logger.debug('health signal processed', recorded);
        }
        if (result.outcome === 'recorded' && result.provisional) {
          // Open for routers at once; the fold over its closed windows records it (or withdraws it).
          logger.info('provider breaker opened provisionally', {
            ...recorded,
            causedBy: result.provisional.causedBy,
            at: result.provisional.at,
            openUntil: result.provisional.openUntil,
          });
          metrics.addMetric('ProvisionalOpenings', MetricUnit.Count, 1);
        }
        if (result.outcome === 'duplicate') metrics.addMetric('HealthSignalDuplicates', MetricUnit.Count, 1);
        if (signal?.attempt) reportAttemptMeasures(signal.attempt, metrics);
        return;
      }
      case 'SignalCounted': {
        const { fact, counted, closed } = step;
        if (counted === 'late') {
          // Not counted (its window is already due), never silently: logged and counted.
          logger.warn('signal later than its window', {
            provider: fact.pair.provider,
            model: fact.pair.model,
            windowStartMs: fact.windowStartMs,
            windowMs: WINDOW_MS,
          });
          metrics.addMetric('LateSignals', MetricUnit.Count, 1);
        }
        for (const window of closed) logger.debug('signal window closed', { window: window.id });
        if (closed.length > 0) metrics.addMetric('SignalWindowsClosed', MetricUnit.Count, closed.length);
        return;
      }
      case 'WindowsJudged': {
        // The failure-rate rule over closed windows: its transitions are logged like a signal's.
        const { result } = step;
        if (result.outcome !== 'recorded') return;
        if (result.withdrawn) {
          // A success (or an earlier failure) its windows hold broke the run the fast path saw.
          logger.info('provisional breaker opening withdrawn', {
            breaker: step.breaker,
            causedBy: result.withdrawn.causedBy,
            at: result.withdrawn.at,
          });
          metrics.addMetric('ProvisionalOpeningsWithdrawn', MetricUnit.Count, 1);
        }
        reportTransitions(
          result.transitions,
          { breaker: step.breaker, command: 'JudgeWindows' },
          { logger, metrics },
          { withCause: true },
        );
        return;
      }
      case 'SlotReleased': {
        logger.info('provider slot released', { ...facts, provider: step.provider, jobId: step.jobId });
        const single = metrics.singleMetric();
        single.addDimensions({ provider: step.provider });
        single.addMetric('SlotsReleased', MetricUnit.Count, 1);
        return;
      }
      case 'DispatchOutcomeHandled':
        logger.debug('dispatch outcome', { ...facts, jobId: step.jobId, verdict: step.verdict.outcome });
        return;
      case 'RoutingRevisionHandled': {
        const { revision } = step;
        if (revision.outcome === 'ignored') {
          logger.info('failure not re-routed', { ...facts, jobId: step.jobId, why: revision.why });
          return;
        }
        if (revision.outcome === 'held') {
          // Every candidate left was full: held, counted per provider it waits for (as the router does).
          logger.info('re-routing held: every candidate left full', {
            ...facts,
            jobId: step.jobId,
            version: revision.record.metadata.version,
            waitingFor: revision.record.data.waitingFor,
            duplicate: revision.duplicate,
          });
          if (revision.duplicate) return;
          for (const provider of revision.record.data.waitingFor) {
            const held = metrics.singleMetric();
            held.addDimensions({ provider });
            held.addMetric('JobsHeld', MetricUnit.Count, 1);
          }
          return;
        }
        const { record } = revision;
        logger.info('job re-routed', {
          ...facts,
          jobId: step.jobId,
          revision: revision.outcome,
          version: record.metadata.version,
          to: record.data.decision.type === 'RoutingDecided' ? record.data.decision.data.provider : null,
          reason: record.data.decision.type === 'RoutingRejected' ? record.data.decision.data.reason : null,
        });
        if (revision.outcome === 'revised') metrics.addMetric('JobsRevised', MetricUnit.Count, 1);
        return;
      }
    }
  };
}

/** A completion's measured run time and charge, when it reports them, as metrics by provider. */
function reportAttemptMeasures(
  attempt: { readonly provider: string; readonly runMs?: number; readonly costUsd?: number },
  metrics: Telemetry['metrics'],
) {
  if (attempt.runMs === undefined && attempt.costUsd === undefined) return;
  const single = metrics.singleMetric();
  single.addDimensions({ provider: attempt.provider });
  if (attempt.runMs !== undefined) single.addMetric('RunMs', MetricUnit.Milliseconds, attempt.runMs);
  if (attempt.costUsd !== undefined) single.addMetric('CostUsd', MetricUnit.Count, attempt.costUsd);
}
