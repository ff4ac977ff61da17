/**
 * Event time in tumbling windows: the one clock-free grid the signal windows
 * (src/provider-health/signal-windows.ts) and the breaker's evidence rules
 * (src/provider-health/breaker.ts) share, so "the windows that began after a transition" means the
 * same thing to the fast path on the breaker item and to the fold over closed windows.
 */

/** Tumbling window length. */
export const WINDOW_MS = 10_000;
/** A window is due (closed) this long after its end: later signals for it are `late`. */
export const WINDOW_GRACE_MS = 5_000;

export const windowStartOf = (atMs: number): number => Math.floor(atMs / WINDOW_MS) * WINDOW_MS;

/** Whether a window starting there is due (closed, or to be closed) at `nowMs`. */
export const isDue = (windowStartMs: number, nowMs: number): boolean =>
  nowMs >= windowStartMs + WINDOW_MS + WINDOW_GRACE_MS;
