import { EventRegistry } from '../shared/event-registry';
import { SessionNoteAdded } from './session-notes';
import { LapCompleted, SectorCompleted, SessionCompleted, SessionCreated, TelemetryBatchRecorded } from './telemetry-session-events';

/** Every event of the racing context (telemetry sessions and their notes), by type name. */
export const racingEvents = new EventRegistry([SessionCreated, TelemetryBatchRecorded, LapCompleted, SectorCompleted, SessionCompleted, SessionNoteAdded]);
