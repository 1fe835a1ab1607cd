import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { domainEvents } from '../../../../src/domain/domain-events';
import { LapCompleted, LapCompletedEventDataSchema } from '../../../../src/domain/racing/telemetry-session-events';
import { defineEvent } from '../../../../src/domain/shared/event-schema';
import { schemaDrift, snapshotOf, type EventSchemaSnapshot } from '../../../support/event-schema-snapshot';

/**
 * Every event schema, with its version, is committed in event-schemas.snapshot.json. A schema that
 * changes without a version bump fails here: events already stored keep the old shape, and only an
 * upcaster from the old version reads them right (docs/event-versioning.md).
 */
const SNAPSHOT_FILE = join(__dirname, 'event-schemas.snapshot.json');
const recorded = JSON.parse(readFileSync(SNAPSHOT_FILE, 'utf8')) as EventSchemaSnapshot;
const current = snapshotOf(domainEvents.definitions);

describe('event schema versions', () => {
  it('every event schema is the one recorded for its version', () => {
    const drift = schemaDrift(recorded, current);
    if (process.env.UPDATE_EVENT_SCHEMAS === '1' && drift.blocking.length === 0 && drift.unrecorded.length > 0) {
      writeFileSync(SNAPSHOT_FILE, `${JSON.stringify(current, null, 2)}\n`);
      return;
    }
    expect([...drift.blocking, ...drift.unrecorded]).toEqual([]);
  });

  it('fails with a clear message when a schema changes without a version bump', () => {
    // The check itself, on a copy of a real event with a field renamed but the version kept.
    const renamed = defineEvent('LapCompleted', {
      version: LapCompleted.version,
      data: LapCompletedEventDataSchema.omit({ lapTimeMs: true }).extend({ estimated: z.boolean(), lapDurationMs: z.number().int().nonnegative() }),
      upcasters: LapCompleted.upcasters,
    });
    const withRename = snapshotOf(domainEvents.definitions.map((definition) => (definition.type === 'LapCompleted' ? renamed : definition)));
    const drift = schemaDrift(recorded, withRename);
    expect(drift.blocking).toEqual([expect.stringContaining(`LapCompleted: its schema changed but its version is still ${LapCompleted.version}`)]);
    expect(drift.blocking[0]).toContain(`bump the version to ${LapCompleted.version + 1}`);

    // Bumped (with its upcaster) it is only a snapshot to record; removing a type is never allowed.
    const bumped = defineEvent('LapCompleted', {
      version: LapCompleted.version + 1,
      data: renamed.data,
      upcasters: { ...LapCompleted.upcasters, [LapCompleted.version]: ({ lapTimeMs, ...rest }) => ({ ...rest, lapDurationMs: lapTimeMs }) },
    });
    const afterBump = schemaDrift(recorded, snapshotOf(domainEvents.definitions.map((definition) => (definition.type === 'LapCompleted' ? bumped : definition))));
    expect(afterBump.blocking).toEqual([]);
    expect(afterBump.unrecorded).toEqual([expect.stringContaining('LapCompleted: version 3 is not recorded yet')]);
    const removed = schemaDrift(recorded, snapshotOf(domainEvents.definitions.filter((definition) => definition.type !== 'MatchRated')));
    expect(removed.blocking).toEqual([expect.stringContaining('MatchRated was removed')]);
  });
});
