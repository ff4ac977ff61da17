/**
 * Completion markers: which effects of a record are known to have happened. One item per projected
 * record (`<stream>:v<version>`) in a non-streamed table, written only after its effects succeeded,
 * read once per batch so a redelivered record skips what is already done. Adapter:
 * src/aws/dynamodb-effect-markers.ts; in-memory twin: src/memory/in-memory-effect-markers.ts.
 */

export interface EffectMarker {
  readonly effectId: string;
  readonly dispatched: boolean;
  readonly dispatchedAt: string | null;
  readonly announced: boolean;
  readonly announcedAt: string | null;
  /** Not needed for safety (the Jobs update is conditional); it saves a redelivery the call. */
  readonly statusProjected: boolean;
  readonly statusProjectedAt: string | null;
}

export interface EffectMarkers {
  /** The markers that exist among `effectIds` (strongly consistent). */
  read(effectIds: readonly string[]): Promise<Map<string, EffectMarker>>;
  /** Writes (replaces) the markers; throws if some could not be written. */
  write(markers: readonly EffectMarker[]): Promise<void>;
}
