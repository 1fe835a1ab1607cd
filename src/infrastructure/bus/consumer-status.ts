/**
 * What a process knows about each bus consumer it runs: small and typed, so that readiness
 * (/readyz), logs and metrics read the same facts.
 */
export type ConsumerState =
  /** Joining its group for the first time. */
  | 'starting'
  /** A member of its group, receiving. */
  | 'running'
  /** Crashed or lost its broker; being recreated with backoff. */
  | 'recovering'
  /** Could not come back within the recovery bound: the process must exit. */
  | 'failed'
  | 'stopped';

export interface ConsumerStatus {
  /** The group id as the broker knows it (with the deployment's namespace). */
  groupId: string;
  topics: string[];
  state: ConsumerState;
  /** When `state` was entered. */
  stateSince: Date;
  /** Last sign of life from the broker (heartbeat, fetch, join); undefined before the first. */
  lastSeenAliveAt?: Date;
  /** How often the consumer was recreated after a crash. */
  restarts: number;
  lastError?: string;
}

/** A consumer counts as live when it is running and the broker answered it within `staleAfterMs`. */
export function isConsumerLive(status: ConsumerStatus, staleAfterMs: number, now: Date = new Date()): boolean {
  if (status.state !== 'running') return false;
  const seen = status.lastSeenAliveAt ?? status.stateSince;
  return now.getTime() - seen.getTime() <= staleAfterMs;
}

/** Raised through `onConsumerFailed` when a consumer could not come back within its bound. */
export class ConsumerFailedError extends Error {
  constructor(readonly status: ConsumerStatus) {
    super(`bus consumer ${status.groupId} could not recover: ${status.lastError ?? 'no sign of life'}`);
    this.name = 'ConsumerFailedError';
  }
}
