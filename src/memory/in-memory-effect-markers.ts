/** Effect markers in memory, for unit tests. */
import type { EffectMarker, EffectMarkers } from '../ports/effect-markers.ts';

export class InMemoryEffectMarkers implements EffectMarkers {
  readonly markers = new Map<string, EffectMarker>();

  async read(effectIds: readonly string[]): Promise<Map<string, EffectMarker>> {
    const found = new Map<string, EffectMarker>();
    for (const id of effectIds) {
      const marker = this.markers.get(id);
      if (marker) found.set(id, structuredClone(marker));
    }
    return found;
  }

  async write(markers: readonly EffectMarker[]): Promise<void> {
    for (const marker of markers) this.markers.set(marker.effectId, structuredClone(marker));
  }
}
