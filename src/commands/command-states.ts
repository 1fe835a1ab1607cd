import type { Services } from '../infrastructure/services';
import { agentDecider, type Agent } from '../domain/arena/agent';
import { ladderDecider, type Ladder } from '../domain/arena/ladder';
import { matchSlotsDecider, type MatchSlots } from '../domain/arena/match-slots';
import { telemetrySessionDecider, type TelemetrySession } from '../domain/racing/telemetry-session';
import type { DomainEvent } from '../domain/shared/decider';
import { trainingJobDecider, type TrainingJob } from '../domain/training/training-job';
import { userDecider, type User } from '../domain/identity/user';
import type { EventStore } from '../infrastructure/eventstore/event-store';
import type { SnapshotStore } from '../infrastructure/snapshots/snapshot-store';
import { CachedStateSource } from './cached-state-source';
import { structuredCodec, type SnapshotCodec } from './snapshot-codec';
import { SnapshotStateSource, type SnapshotPolicy } from './snapshot-state-source';
import { WholeStreamSource, type Evolver, type StateSource } from './state-source';

/**
 * The state sources of the streams that grow long, one per aggregate, shared by every command of the
 * process: memory (recently used streams) over snapshots (every `snapshotEvery` events) over the
 * stream. Users are kept in memory over their whole stream (a user's commands come to the process
 * that serves them, one after another). Other short streams (claims, submissions, matches,
 * sign-ins) read their whole stream. A remembered state lets handleCommand decide without reading
 * (the append's expected revision checks it). docs/ARCHITECTURE.md, "Command handling and snapshots".
 */
export interface CommandStates {
  users: StateSource<User>;
  telemetrySessions: StateSource<TelemetrySession>;
  trainingJobs: StateSource<TrainingJob>;
  ladders: StateSource<Ladder>;
  agents: StateSource<Agent>;
  matchSlots: StateSource<MatchSlots>;
}

/**
 * Snapshot encodings. Bump a version whenever that aggregate's state type or evolve changes meaning:
 * older snapshots are then ignored and the streams read instead.
 */
export const SNAPSHOT_CODECS = {
  telemetrySessions: structuredCodec<TelemetrySession>('TelemetrySession', 1),
  trainingJobs: structuredCodec<TrainingJob>('TrainingJob', 1),
  ladders: structuredCodec<Ladder>('Ladder', 1),
  agents: structuredCodec<Agent>('Agent', 1),
  matchSlots: structuredCodec<MatchSlots>('MatchSlots', 1),
} as const;

export interface CommandStatesOptions {
  /** null: no snapshots (memory over the stream). */
  snapshots: SnapshotStore | null;
  snapshotEvery?: number;
  /** Streams of each aggregate kept in memory. */
  maxCachedStreams?: number;
  onSnapshotError?: SnapshotPolicy['onSnapshotError'];
}

export function createCommandStates(store: EventStore, options: CommandStatesOptions): CommandStates {
  const policy: SnapshotPolicy = { every: BigInt(options.snapshotEvery ?? 100), onSnapshotError: options.onSnapshotError };
  const source = <State, Event extends DomainEvent>(
    decider: Evolver<State, Event>,
    codec: SnapshotCodec<State>,
  ): StateSource<State> => {
    const below: StateSource<State> =
      options.snapshots === null ? new WholeStreamSource(store, decider) : new SnapshotStateSource(store, decider, options.snapshots, codec, policy);
    return new CachedStateSource(store, decider, below, { maxEntries: options.maxCachedStreams ?? 1000 });
  };
  return {
    users: new CachedStateSource(store, userDecider, new WholeStreamSource(store, userDecider), { maxEntries: options.maxCachedStreams ?? 1000 }),
    telemetrySessions: source(telemetrySessionDecider, SNAPSHOT_CODECS.telemetrySessions),
    trainingJobs: source(trainingJobDecider, SNAPSHOT_CODECS.trainingJobs),
    ladders: source(ladderDecider, SNAPSHOT_CODECS.ladders),
    agents: source(agentDecider, SNAPSHOT_CODECS.agents),
    matchSlots: source(matchSlotsDecider, SNAPSHOT_CODECS.matchSlots),
  };
}

/** A process's opened adapters with the state sources its commands share (src/runtime/open-services.ts). */
export interface CommandServices extends Services {
  commandStates: CommandStates;
}
