import { z } from 'zod';
import type { EventDefinition } from '../../src/domain/shared/event-schema';

/** Per event type: its schema version and its data's JSON Schema (stored shape, zod's `io: 'input'`). */
export type EventSchemaSnapshot = Record<string, { version: number; schema: unknown }>;

export const RECORD_COMMAND = 'UPDATE_EVENT_SCHEMAS=1 npx jest test/unit/domain/events/event-schema-versions.test.ts';

export function snapshotOf(definitions: readonly EventDefinition[]): EventSchemaSnapshot {
  const sorted = [...definitions].sort((a, b) => a.type.localeCompare(b.type));
  return Object.fromEntries(
    sorted.map((definition) => [definition.type, { version: definition.version, schema: z.toJSONSchema(definition.data, { unrepresentable: 'any', io: 'input' }) }]),
  );
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * What is wrong between the recorded snapshot and the code. `blocking` problems (a schema changed
 * under the same version, a version gone back, an event type removed) must be fixed in the code;
 * `unrecorded` ones (a new type, a bumped version) only need the snapshot recorded again.
 */
export function schemaDrift(recorded: EventSchemaSnapshot, current: EventSchemaSnapshot): { blocking: string[]; unrecorded: string[] } {
  const blocking: string[] = [];
  const unrecorded: string[] = [];
  for (const [type, before] of Object.entries(recorded)) {
    const now = current[type];
    if (now === undefined) {
      blocking.push(`${type} was removed, but stored ${type} events stay in the store forever: keep its definition (docs/event-versioning.md)`);
    } else if (now.version < before.version) {
      blocking.push(`${type}: version went back from ${before.version} to ${now.version}`);
    } else if (now.version === before.version && !same(now.schema, before.schema)) {
      blocking.push(
        `${type}: its schema changed but its version is still ${now.version}. Events already stored were written with the old schema: ` +
          `bump the version to ${now.version + 1}, add an upcaster from version ${now.version} (docs/event-versioning.md), then record the snapshot: ${RECORD_COMMAND}`,
      );
    } else if (now.version > before.version) {
      unrecorded.push(`${type}: version ${now.version} is not recorded yet (recorded: ${before.version}); record it: ${RECORD_COMMAND}`);
    }
  }
  for (const type of Object.keys(current)) {
    if (!(type in recorded)) unrecorded.push(`${type} is a new event type; record its schema: ${RECORD_COMMAND}`);
  }
  return { blocking, unrecorded };
}
