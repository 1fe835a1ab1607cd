import { z } from 'zod';
import { ValidationError } from '../../domain/shared/errors';
import { TRAINING_JOB_CATEGORY } from '../../domain/training/training-job';
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

/** Messages that change the job's status: a client told of one may GET the job and must see it. */
const STATUS_MESSAGES = new Set(['training_started', 'training_requeued', 'training_completed', 'training_failed', 'training_cancelled']);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** What a training job event looks like to a subscriber; undefined for events it does not see. */
export function trainingMessageFor(event: RecordedEvent): ServerMessage | undefined {
  const data = event.data;
  const job_id = data.jobId;
  switch (event.type) {
    case 'TrainingProgressed':
      return {
        type: 'training_progress',
        job_id,
        progress_percentage: data.progressPercentage,
        current_timestep: data.timestep,
        estimated_time_remaining: data.estimatedTimeRemainingSec,
        total_timesteps: data.totalTimesteps,
        episode_reward: data.episodeReward,
        episode_length: data.episodeLength,
        fps: data.fps,
        loss: data.loss,
        attempt: data.attempt,
      };
    case 'TrainingStarted':
      return { type: 'training_started', job_id, status: 'running', attempt: data.attempt };
    case 'TrainingRequeued':
      return { type: 'training_requeued', job_id, status: 'pending', attempt: data.attempt, reason: data.reason };
    case 'TrainingCompleted':
      return { type: 'training_completed', job_id, status: 'completed', progress_percentage: 100, current_timestep: data.timestep, mean_return: num(data.meanReturn) };
    case 'TrainingFailed':
      return { type: 'training_failed', job_id, status: 'failed', reason: data.reason };
    case 'TrainingCancelled':
      return { type: 'training_cancelled', job_id, status: 'cancelled', current_timestep: data.timestep, reason: data.reason };
    default:
      return undefined;
  }
}

/**
 * ws://host/ws/training?token=…: progress of your own training jobs. `subscribe` checks the job is
 * yours (read model) and answers with a `subscribed` snapshot; pushes come from the job's events
 * through the bus (LiveEvents), so any API process serves them. docs/training.md, "WebSocket".
 */
export function trainingWebSocketChannel({ services, live, gateway }: WebSocketDeps) {
  live.on([TRAINING_JOB_CATEGORY], async (event: RecordedEvent) => {
    const message = trainingMessageFor(event);
    if (!message || typeof message.job_id !== 'string') return;
    const jobId = message.job_id;
    const subscribed = (connection: WebSocketConnection) => connection.topics.has(jobId);
    if (!hasSubscribers(subscribed)) return;
    // A client told the job's status changed (started, requeued, ended) reads the job and its metrics
    // over HTTP: wait (boundedly) for the read models first. Progress is pushed as it comes.
    if (STATUS_MESSAGES.has(String(message.type))) {
      await Promise.all(trainingProjections.map((projection) => waitForProjection(services.db, projection.name, event.streamId, event.revision)));
    }
    gateway.broadcast(subscribed, message, TRAINING_WS_PATH);
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
