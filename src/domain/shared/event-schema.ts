import { z } from 'zod';
import type { DomainEvent } from './decider';
import { EventDataError } from './event-data-error';

/**
 * One event type: its name, the zod schema of its data (the TypeScript type is inferred from it),
 * and its schema version. Every change to the schema bumps the version and brings an upcaster
 * from the previous version, so events stored under any older version are read as the current
 * one (docs/event-versioning.md). `test/unit/domain/event-schema-snapshots.test.ts` fails when a
 * schema changes without a bump.
 */
export interface EventDefinition<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  /** The current schema version, from 1. Events stored without one are version 1. */
  readonly version: number;
  readonly data: z.ZodType<Data>;
  /** `upcasters[n]` turns the data of version n into version n + 1, for every n below `version`. */
  readonly upcasters: Readonly<Record<number, EventUpcaster>>;
  /** How the data is stored when that differs from the domain's form (e.g. packed telemetry columns). */
  readonly storage?: EventStorage<Data>;
}

/**
 * A stored form of an event's data other than the domain's own JSON: `toStored` is applied when the
 * event is appended, `fromStored` when it is read back (after upcasting), so deciders, projections
 * and workers only ever see the domain's form. `fromStored` must also read data stored before the
 * codec existed (the domain's form): a storage change needs no version bump, a schema change does.
 */
export interface EventStorage<Data extends object = object> {
  toStored(data: Data): Record<string, unknown>;
  fromStored(stored: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

/** Data of one version in, data of the next version out. Pure; the input is not modified. */
export type EventUpcaster = (data: Readonly<Record<string, unknown>>) => Record<string, unknown>;

/** The domain event (`{ type, data }`) an event definition describes. */
export type EventOf<Definition> = Definition extends EventDefinition<infer Type, infer Data> ? DomainEvent<Type, Data> : never;

export function defineEvent<const Type extends string, Schema extends z.ZodType<object>>(
  type: Type,
  definition: { data: Schema; version?: number; upcasters?: Record<number, EventUpcaster>; storage?: EventStorage<z.output<Schema>> },
): EventDefinition<Type, z.output<Schema>> {
  const version = definition.version ?? 1;
  if (!Number.isInteger(version) || version < 1) throw new Error(`${type}: the schema version must be an integer from 1, not ${version}`);
  const upcasters = definition.upcasters ?? {};
  for (let from = 1; from < version; from++) {
    if (typeof upcasters[from] !== 'function') throw new Error(`${type}: version ${version} needs an upcaster from version ${from}`);
  }
  for (const from of Object.keys(upcasters).map(Number)) {
    if (!(from >= 1 && from < version)) throw new Error(`${type}: an upcaster from version ${from} does not lead to version ${version}`);
  }
  return {
    type,
    version,
    data: definition.data as unknown as z.ZodType<z.output<Schema>>,
    upcasters,
    ...(definition.storage ? { storage: definition.storage } : {}),
  };
}

/** Metadata key of the schema version an event was written with (docs/event-versioning.md). */
export const SCHEMA_VERSION_KEY = 'schemaVersion';

/** What an event's metadata says about its schema version: absent (written before versions) is 1. */
export function storedSchemaVersion(eventType: string, metadata: Readonly<Record<string, unknown>>): number {
  const version = metadata[SCHEMA_VERSION_KEY];
  if (version === undefined) return 1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new EventDataError(eventType, `metadata.${SCHEMA_VERSION_KEY} is not a version number: ${JSON.stringify(version)}`);
  }
  return version;
}
