/** Waits `ms` milliseconds: the backoff between resends of refused or unprocessed entries. */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
