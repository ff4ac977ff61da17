/**
 * Event time in tumbling windows: the one clock-free grid the signal windows
 * (src/provider-health/signal-windows.ts) and the breaker's evidence rules
 * (src/provider-health/breaker.ts) share, so "the windows that began after a transition" means the
 * same thing to the fast path on the breaker item and to the fold over closed windows.
 *
 * Two instants per window, never one. Ingest **admits** a signal until its window's end +
 * WINDOW_GRACE_MS (`isLate` after it); closers **close** the window only WINDOW_SETTLE_MS later
 * (`isDue`). Were both the same instant, a signal admitted just before it — its facts still being
 * written — could land after a closer had read the window: stored, but in no closed record, and
 * counted by a closer that read after it but not by one that read before. The gap between the two
 * is the longest an admitted signal's write can still be on its way: a signal batch is admitted at
 * one instant (`handleProviderSignals` reads the clock once, before the breaker takes the batch) and
 * everything it writes is sent within the HealthSignals function's timeout, after which Lambda stops
 * the invocation (SIGNAL_HANDLING_MAX_MS, checked against template.yaml); WRITE_LANDS_MS more covers
 * a request already sent when it stops, and clocks of two instances that disagree a little.
 */

/** Tumbling window length. */
export const WINDOW_MS = 10_000;
/** Signals of a window are admitted until this long after its end; later ones are `late`. */
export const WINDOW_GRACE_MS = 5_000;
/**
 * The longest a signal batch runs from its admission to its last write sent: the timeout of the
 * HealthSignals function (template.yaml; tests/unit/window-settle.unit.spec.ts checks every
 * function that counts signals). A runner without that timeout (the local stack, the bench) is held
 * to it by `countSignals`, which refuses as late what it could no longer write in time.
 */
export const SIGNAL_HANDLING_MAX_MS = 30_000;
/** A write sent is applied by DynamoDB, and two instances' clocks agree, well within this. */
export const WRITE_LANDS_MS = 5_000;
/** How long after admission ends a window waits before a closer reads it (35 s). */
export const WINDOW_SETTLE_MS = SIGNAL_HANDLING_MAX_MS + WRITE_LANDS_MS;

export const windowStartOf = (atMs: number): number => Math.floor(atMs / WINDOW_MS) * WINDOW_MS;

/** Whether a signal of the window starting there is refused at `nowMs` (its admission is over). */
export const isLate = (windowStartMs: number, nowMs: number): boolean =>
  nowMs >= windowStartMs + WINDOW_MS + WINDOW_GRACE_MS;

/** When closers may read and close the window starting there: its end + grace + settle. */
export const closesAtOf = (windowStartMs: number): number =>
  windowStartMs + WINDOW_MS + WINDOW_GRACE_MS + WINDOW_SETTLE_MS;

/** Whether a window starting there is due (closed, or to be closed) at `nowMs`. */
export const isDue = (windowStartMs: number, nowMs: number): boolean => nowMs >= closesAtOf(windowStartMs);

/**
 * Whether facts of the window starting there may still be written at `nowMs`: the write then lands
 * before any closer reads it (WRITE_LANDS_MS before it closes).
 */
export const isWritable = (windowStartMs: number, nowMs: number): boolean =>
  nowMs < closesAtOf(windowStartMs) - WRITE_LANDS_MS;
