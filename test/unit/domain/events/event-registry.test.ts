import { z } from 'zod';
import { EventDataError } from '../../../../src/domain/shared/event-data-error';
import { EventRegistry } from '../../../../src/domain/shared/event-registry';
import { defineEvent, storedSchemaVersion, type EventOf } from '../../../../src/domain/shared/event-schema';

// A test-only event whose schema changed twice: v1 `{ km }`, v2 renamed to `{ distanceKm }`, v3 in metres.
const DistanceDriven = defineEvent('DistanceDriven', {
  version: 3,
  data: z.object({ carId: z.string(), distanceM: z.number() }),
  upcasters: {
    1: ({ km, ...rest }) => ({ ...rest, distanceKm: km }),
    2: ({ distanceKm, ...rest }) => ({ ...rest, distanceM: Number(distanceKm) * 1000 }),
  },
});
type DistanceDriven = EventOf<typeof DistanceDriven>;
const PitStopped = defineEvent('PitStopped', { data: z.object({ carId: z.string(), lap: z.number().int() }) });
const registry = new EventRegistry([DistanceDriven, PitStopped]);

describe('event registry', () => {
  it('reads every stored version as the current one, through each upcaster in turn', () => {
    const expected: DistanceDriven = { type: 'DistanceDriven', data: { carId: 'c1', distanceM: 4200 } };
    expect(registry.decode('DistanceDriven', 1, { carId: 'c1', km: 4.2 })).toEqual(expected);
    expect(registry.decode('DistanceDriven', 2, { carId: 'c1', distanceKm: 4.2 })).toEqual(expected);
    expect(registry.decode('DistanceDriven', 3, { carId: 'c1', distanceM: 4200 })).toEqual(expected);
  });

  it('turns data that does not fit, an unknown type and a version from the future into EventDataError', () => {
    expect(() => registry.decode('PitStopped', 1, { carId: 'c1', lap: 'three' })).toThrow(EventDataError);
    expect(() => registry.decode('PitStopped', 1, { carId: 'c1', lap: 'three' })).toThrow(/PitStopped: lap: /);
    expect(() => registry.decode('Teleported', 1, {})).toThrow(/Teleported: not an event type this code knows/);
    expect(() => registry.decode('DistanceDriven', 4, { carId: 'c1', distanceM: 1 })).toThrow(/schema version 4, newer than this code's 3/);
  });

  it('takes the version from metadata, and an event stored before versions as version 1', () => {
    expect(storedSchemaVersion('DistanceDriven', {})).toBe(1);
    expect(storedSchemaVersion('DistanceDriven', { schemaVersion: 2 })).toBe(2);
    expect(() => storedSchemaVersion('DistanceDriven', { schemaVersion: '2' })).toThrow(EventDataError);
    expect(() => storedSchemaVersion('DistanceDriven', { schemaVersion: 0 })).toThrow(EventDataError);
  });

  it('refuses a definition without an upcaster from every older version, and a type defined twice', () => {
    expect(() => defineEvent('Broken', { version: 3, data: z.object({}), upcasters: { 1: (data) => data } })).toThrow(/needs an upcaster from version 2/);
    expect(() => defineEvent('Broken', { version: 1, data: z.object({}), upcasters: { 1: (data) => data } })).toThrow(/does not lead to version 1/);
    expect(() => EventRegistry.combine(registry, new EventRegistry([PitStopped]))).toThrow(/PitStopped is defined twice/);
  });

  it('does not change the stored data it upcasts', () => {
    const stored = Object.freeze({ carId: 'c1', km: 1 });
    registry.upcast('DistanceDriven', 1, stored);
    expect(stored).toEqual({ carId: 'c1', km: 1 });
  });
});
