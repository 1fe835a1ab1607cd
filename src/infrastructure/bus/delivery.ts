/**
 * Handler delivery shared by both MessageBus adapters: in-process retries with exponential
 * backoff, the dead-letter headers, and an abortable delay so `stop()` never waits out a backoff.
 */
import {
  DEAD_LETTER_HEADERS,
  defaultDeadLetterTopic,
  type ConsumerOptions,
  type DeliveredMessage,
  type OutgoingMessage,
} from './message-bus';

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_RETRY_BACKOFF_MS = 100;
/** Keeps a large maxAttempts from sleeping for hours (and a Kafka member from losing its session). */
const MAX_BACKOFF_MS = 30_000;
/** Error text beyond this is cut from the dead-letter header; stack traces do not belong there. */
const MAX_ERROR_HEADER_CHARS = 2_000;

export interface RetryPolicy {
  maxAttempts: number;
  retryBackoffMs: number;
  deadLetterTopic: (topic: string) => string;
}

export function retryPolicyOf(options: ConsumerOptions): RetryPolicy {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const retryBackoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  if (!Number.isFinite(retryBackoffMs) || retryBackoffMs < 0) {
    throw new RangeError(`retryBackoffMs must be >= 0, got ${retryBackoffMs}`);
  }
  return { maxAttempts, retryBackoffMs, deadLetterTopic: options.deadLetterTopic ?? defaultDeadLetterTopic };
}

export type DeliveryOutcome =
  /** The handler resolved: commit. */
  | { kind: 'handled'; attempts: number }
  /** Every attempt failed: dead-letter, then commit. */
  | { kind: 'exhausted'; attempts: number; lastError: unknown }
  /** The consumer is stopping: commit nothing, so the message is delivered again later. */
  | { kind: 'abandoned'; attempts: number };

export interface DeliveryControl {
  /** Aborted when the consumer stops; no new attempt starts after that. */
  signal: AbortSignal;
  /** Runs before each retry (Kafka: heartbeat, so a long backoff does not cost the group membership). */
  beforeRetry?: () => Promise<void>;
  onAttemptFailed?: (error: unknown, attempt: number) => void;
}

export async function deliverWithRetries(
  message: DeliveredMessage,
  handler: (message: DeliveredMessage) => Promise<void>,
  policy: RetryPolicy,
  control: DeliveryControl,
): Promise<DeliveryOutcome> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    if (control.signal.aborted) return { kind: 'abandoned', attempts: attempt - 1 };
    if (attempt > 1) {
      await control.beforeRetry?.();
      await abortableDelay(backoffMs(policy.retryBackoffMs, attempt - 1), control.signal);
      if (control.signal.aborted) return { kind: 'abandoned', attempts: attempt - 1 };
    }
    try {
      await handler(message);
      return { kind: 'handled', attempts: attempt };
    } catch (error) {
      lastError = error;
      control.onAttemptFailed?.(error, attempt);
    }
  }
  return { kind: 'exhausted', attempts: policy.maxAttempts, lastError };
}

/** Delay before retry number `retry` (1-based): base, 2x base, 4x base, ... capped. */
export function backoffMs(baseMs: number, retry: number): number {
  return Math.min(baseMs * 2 ** (retry - 1), MAX_BACKOFF_MS);
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_HEADER_CHARS ? `${text.slice(0, MAX_ERROR_HEADER_CHARS)}...` : text;
}

/** The message as it goes to the dead-letter topic: same key, value and headers, plus where it came from and why. */
export function deadLetterMessage(message: DeliveredMessage, attempts: number, lastError: unknown): OutgoingMessage {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [DEAD_LETTER_HEADERS.error]: errorText(lastError),
      [DEAD_LETTER_HEADERS.originalTopic]: message.topic,
      [DEAD_LETTER_HEADERS.originalPartition]: String(message.partition),
      [DEAD_LETTER_HEADERS.originalOffset]: message.offset,
      [DEAD_LETTER_HEADERS.attempts]: String(attempts),
    },
  };
}
