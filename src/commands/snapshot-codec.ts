import type { JsonValue } from '../infrastructure/eventstore/event-store';

/**
 * How an aggregate's folded state is written into a snapshot and read back. `version` names the
 * state's shape: bump it whenever the state type or its evolve function changes meaning, and
 * every stored snapshot of the older version is ignored (the stream is read instead).
 */
export interface SnapshotCodec<State> {
  schema: string;
  version: number;
  encode(state: State): JsonValue;
  /** Throws when the JSON is not a state of this shape. */
  decode(json: JsonValue): State;
}

/**
 * A lossless JSON form for the values deciders' states are made of: plain objects, arrays, strings,
 * finite and non-finite numbers, booleans, null, undefined, Map, Set and bigint. Anything else
 * (a class instance, a function) throws, so a state that cannot be snapshotted is never stored.
 */
export function structuredCodec<State>(schema: string, version: number): SnapshotCodec<State> {
  return {
    schema,
    version,
    encode: (state) => encodeValue(state),
    decode: (json) => decodeValue(json) as State,
  };
}

const TAGS = ['$undefined', '$number', '$bigint', '$map', '$set', '$object'] as const;

function encodeValue(value: unknown): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (Array.isArray(value)) return value.map(encodeValue);
  // By tag and prototype shape, not instanceof: values parsed by a driver may come from another realm.
  const tag = Object.prototype.toString.call(value);
  if (tag === '[object Map]') return { $map: [...(value as Map<unknown, unknown>).entries()].map(([k, v]) => [encodeValue(k), encodeValue(v)]) };
  if (tag === '[object Set]') return { $set: [...(value as Set<unknown>)].map(encodeValue) };
  if (typeof value === 'object' && tag === '[object Object]' && isPlainPrototype(Object.getPrototypeOf(value))) {
    const encoded: { [key: string]: JsonValue } = {};
    for (const [key, entry] of Object.entries(value)) encoded[key] = encodeValue(entry);
    const keys = Object.keys(encoded);
    // A plain object that looks like a tag is wrapped, so decoding cannot mistake it.
    return keys.length === 1 && (TAGS as readonly string[]).includes(keys[0]!) ? { $object: encoded } : encoded;
  }
  throw new TypeError(`a snapshot cannot hold a ${tag} (${(Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'no constructor'})`);
}

/** null, or some realm's Object.prototype (whose own prototype is null): not a class instance. */
function isPlainPrototype(prototype: unknown): boolean {
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function decodeValue(json: JsonValue): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  const keys = Object.keys(json);
  if (keys.length === 1) {
    const key = keys[0]!;
    const inner = json[key]!;
    switch (key) {
      case '$undefined':
        return undefined;
      case '$number':
        return Number(inner);
      case '$bigint':
        return BigInt(expectString(inner));
      case '$map':
        return new Map(expectArray(inner).map((pair) => {
          const [k, v] = expectArray(pair);
          return [decodeValue(k ?? null), decodeValue(v ?? null)] as const;
        }));
      case '$set':
        return new Set(expectArray(inner).map(decodeValue));
      case '$object':
        return decodeObject(expectObject(inner));
    }
  }
  return decodeObject(json);
}

function decodeObject(json: { [key: string]: JsonValue }): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(json)) decoded[key] = decodeValue(entry);
  return decoded;
}

function expectString(json: JsonValue): string {
  if (typeof json !== 'string') throw new TypeError('snapshot: expected a string');
  return json;
}

function expectArray(json: JsonValue): JsonValue[] {
  if (!Array.isArray(json)) throw new TypeError('snapshot: expected an array');
  return json;
}

function expectObject(json: JsonValue): { [key: string]: JsonValue } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TypeError('snapshot: expected an object');
  return json;
}
