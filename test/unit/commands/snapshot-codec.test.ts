import { structuredCodec } from '../../../src/commands/snapshot-codec';
import type { JsonValue } from '../../../src/infrastructure/eventstore/event-store';

/** Through the codec and through JSON text, as a snapshot row stores it. */
const roundTrip = <T>(value: T): unknown => {
  const codec = structuredCodec<T>('Test', 1);
  return codec.decode(JSON.parse(JSON.stringify(codec.encode(value))) as JsonValue);
};

describe('the snapshot codec', () => {
  it('gives back Maps, Sets, bigints, undefined and non-finite numbers exactly', () => {
    const state = {
      ratings: new Map<string, number>([['a', 1216.5], ['b', 1183.5]]),
      rated: new Set(['m1', 'm2']),
      revision: 12345678901234567890n,
      columns: { speed: [1, undefined, 3], brake: undefined, extremes: [Number.NaN, Number.POSITIVE_INFINITY, -Infinity] },
      nested: [{ deep: new Map([[1, new Set([null])]]) }],
      nothing: null,
    };
    const back = roundTrip(state) as typeof state;
    expect(back).toEqual(state);
    expect('brake' in back.columns).toBe(true);
    expect(back.columns.speed).toHaveLength(3);
  });

  it('does not mistake a plain object that looks like one of its tags for that tag', () => {
    const state = { a: { $map: [['x', 1]] }, b: { $undefined: true }, c: { $object: 'x' } };
    expect(roundTrip(state)).toEqual(state);
  });

  it('refuses what it cannot give back (a class instance, a date): no snapshot rather than a wrong one', () => {
    class Lease {
      constructor(readonly until: number) {}
    }
    expect(() => structuredCodec('Test', 1).encode({ lease: new Lease(1) })).toThrow(TypeError);
    expect(() => structuredCodec('Test', 1).encode({ at: new Date(0) })).toThrow(TypeError);
  });

  it('throws on JSON that is not what it wrote, so the reader falls back to the stream', () => {
    expect(() => structuredCodec('Test', 1).decode({ ratings: { $map: 'not pairs' } })).toThrow(TypeError);
    expect(() => structuredCodec('Test', 1).decode({ n: { $bigint: 12 } })).toThrow(TypeError);
  });
});
