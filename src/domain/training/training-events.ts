import { EventRegistry } from '../shared/event-registry';
import { RunnerTokenIssued, RunnerTokenRevoked } from './runner-token';
import {
  TrainingCancelled,
  TrainingCancelRequested,
  TrainingCompleted,
  TrainingFailed,
  TrainingHeartbeat,
  TrainingJobCreated,
  TrainingProgressed,
  TrainingRequeued,
  TrainingStarted,
} from './training-job';

/** Every event of the training context, by type name. */
export const trainingEvents = new EventRegistry([
  TrainingJobCreated,
  TrainingStarted,
  TrainingProgressed,
  TrainingHeartbeat,
  TrainingCancelRequested,
  TrainingCancelled,
  TrainingCompleted,
  TrainingFailed,
  TrainingRequeued,
  RunnerTokenIssued,
  RunnerTokenRevoked,
]);
