/**
 * The contract every EffectMarkers implementation must pass (in memory in unit tests, DynamoDB Local
 * in integration tests): read exactly what exists, replace on write.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EffectMarker, EffectMarkers } from '../../src/ports/effect-markers.ts';

export const aMarker = (overrides: Partial<EffectMarker> = {}): EffectMarker => ({
  effectId: `job#${randomUUID()}:v1`,
  dispatched: true,
  dispatchedAt: '2026-11-25T10:00:02.000Z',
  announced: false,
  announcedAt: null,
  statusProjected: false,
  statusProjectedAt: null,
  ...overrides,
});

export function effectMarkersContract(
  name: string,
  createMarkers: () => Promise<EffectMarkers> | EffectMarkers,
) {
  describe(`${name} honours the effect markers contract`, () => {
    it('given no markers, when reading, then nothing is found', async () => {
      const markers = await createMarkers();
      expect(await markers.read([aMarker().effectId])).toEqual(new Map());
    });

    it('given markers written, when reading them with unknown and repeated ids, then exactly the written ones come back', async () => {
      const markers = await createMarkers();
      const written = Array.from({ length: 130 }, () => aMarker());
      await markers.write(written);
      const ids = [...written.map((m) => m.effectId), written[0]?.effectId as string, aMarker().effectId];

      const read = await markers.read(ids);

      expect(read.size).toBe(130);
      expect(read.get(written[5]?.effectId as string)).toEqual(written[5]);
    });

    it('given a marker, when it is written again with more effects done, then the new one replaces it', async () => {
      const markers = await createMarkers();
      const first = aMarker();
      const next = { ...first, announced: true, announcedAt: '2026-11-25T10:00:03.000Z' };
      await markers.write([first]);
      await markers.write([next]);

      expect(await markers.read([first.effectId])).toEqual(new Map([[first.effectId, next]]));
    });
  });
}
