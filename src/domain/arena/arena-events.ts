import { EventRegistry } from '../shared/event-registry';
import { ActiveSubmissionChanged, AgentCreated, AgentDeleted, AgentUpdated, SubmissionAccepted } from './agent';
import { AgentNameClaimed, AgentNameReleased } from './agent-name-claim';
import { MatchRated } from './ladder';
import { MatchCompleted, MatchFailed, MatchRequested, MatchStarted } from './match';
import { MatchSlotReleased, MatchSlotReserved } from './match-slots';
import { BuildFailed, BuildStarted, BuildSucceeded, RebuildRequested, SubmissionReceived } from './submission';

/** Every event of the arena context, by type name. */
export const arenaEvents = new EventRegistry([
  AgentCreated,
  AgentUpdated,
  AgentDeleted,
  SubmissionAccepted,
  ActiveSubmissionChanged,
  AgentNameClaimed,
  AgentNameReleased,
  SubmissionReceived,
  BuildStarted,
  BuildSucceeded,
  BuildFailed,
  RebuildRequested,
  MatchRequested,
  MatchStarted,
  MatchCompleted,
  MatchFailed,
  MatchSlotReserved,
  MatchSlotReleased,
  MatchRated,
]);
