import { z } from 'zod';
import { ValidationError } from '../../domain/shared/errors';
import { TRAINING_JOB_CATEGORY, type TrainingJobEvent } from '../../domain/training/training-job';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { waitForProjection } from '../../projections/postgres/projection-runner';
import { trainingProjections } from '../../projections/postgres/training/training-projections';
import { defineWebSocketChannel, type ServerMessage, type WebSocketConnection } from '../shared/websocket/websocket-channel';
import type { WebSocketDeps } from '../shared/websocket/websocket-deps';
import { requireOwnTrainingJob } from './training-routes';

export const TRAINING_WS_PATH = '/ws/training';
/** Jobs one socket may follow at once. */
export const MAX_TRAINING_SUBSCRIPTIONS = 50;

const JobMessage = (type: 'subscribe' | 'unsubscribe') =>
  z.object({ type: z.literal(type), job_id: z.uuid({ error: 'job_id must be a training job UUID' }) });
export const TrainingClientMessage = z.discriminatedUnion('type', [JobMessage('subscribe'), JobMessage('unsubscribe')]);

/**
 * ws://host/ws/training?token=…: progress of your own training jobs. `subscribe` checks the job is
 * yours (read model) and answers with a `subscribed` snapshot; pushes come from the job's events
 * through the bus (LiveEvents), so any API process serves them. docs/training.md, "WebSocket".
 */
export function trainingWebSocketChannel({ services, live, gateway }: WebSocketDeps) {
  /**
   * Sends the job's message to its subscribers on this process. A client told the job's status
   * changed (started, requeued, ended) reads the job and its metrics over HTTP: for those, wait
   * (boundedly) for the read models first. Progress is pushed as it comes.
   */
  const push = async (event: RecordedEvent<TrainingJobEvent>, message: ServerMessage & { job_id: string }, statusChanged: boolean) => {
    const subscribed = (connection: WebSocketConnection) => connection.topics.has(message.job_id);
    if (!hasSubscribers(subscribed)) return;
    if (statusChanged) {
      await Promise.all(trainingProjections.map((projection) => waitForProjection(services.db, projection.name, event.streamId, event.revision)));
    }
    gateway.broadcast(subscribed, message, TRAINING_WS_PATH);
  };

  live.on([TRAINING_JOB_CATEGORY], {
    TrainingProgressed: (event) => {
      const { data } = event;
      return push(
        event,
        {
          type: 'training_progress',
          job_id: data.jobId,
          progress_percentage: data.progressPercentage,
          current_timestep: data.timestep,
          estimated_time_remaining: data.estimatedTimeRemainingSec,
          total_timesteps: data.totalTimesteps,
          episode_reward: data.episodeReward,
          episode_length: data.episodeLength,
          fps: data.fps,
          loss: data.loss,
          attempt: data.attempt,
        },
        false,
      );
    },
    TrainingStarted: (event) => push(event, { type: 'training_started', job_id: event.data.jobId, status: 'running', attempt: event.data.attempt }, true),
    TrainingRequeued: (event) =>
      push(event, { type: 'training_requeued', job_id: event.data.jobId, status: 'pending', attempt: event.data.attempt, reason: event.data.reason }, true),
    TrainingCompleted: (event) =>
      push(
        event,
        { type: 'training_completed', job_id: event.data.jobId, status: 'completed', progress_percentage: 100, current_timestep: event.data.timestep, mean_return: event.data.meanReturn },
        true,
      ),
    TrainingFailed: (event) => push(event, { type: 'training_failed', job_id: event.data.jobId, status: 'failed', reason: event.data.reason }, true),
    TrainingCancelled: (event) =>
      push(event, { type: 'training_cancelled', job_id: event.data.jobId, status: 'cancelled', current_timestep: event.data.timestep, reason: event.data.reason }, true),
  });

  /** Whether a socket of this process follows the job; selects nobody, so sends nothing. */
  function hasSubscribers(select: (connection: WebSocketConnection) => boolean): boolean {
    let found = false;
    gateway.broadcast((connection) => {
      found ||= select(connection);
      return false;
    }, { type: 'noop' }, TRAINING_WS_PATH);
    return found;
  }

  return defineWebSocketChannel({
    path: TRAINING_WS_PATH,
    clientMessage: TrainingClientMessage,
    async onMessage(connection, message) {
      const jobId = message.job_id.toLowerCase();
      if (message.type === 'unsubscribe') {
        connection.topics.delete(jobId);
        connection.send({ type: 'unsubscribed', job_id: jobId });
        return;
      }
      if (!connection.topics.has(jobId) && connection.topics.size >= MAX_TRAINING_SUBSCRIPTIONS) {
        throw new ValidationError(`At most ${MAX_TRAINING_SUBSCRIPTIONS} training jobs per connection; unsubscribe from one first`);
      }
      const job = await requireOwnTrainingJob(services.db, jobId, connection.user.id);
      connection.topics.add(job.id);
      connection.send({
        type: 'subscribed',
        job_id: job.id,
        status: job.status,
        progress_percentage: job.progress_percentage,
        current_timestep: job.current_timestep,
        total_timesteps: job.total_timesteps,
        estimated_time_remaining: job.estimated_time_remaining,
      });
    },
  });
}
