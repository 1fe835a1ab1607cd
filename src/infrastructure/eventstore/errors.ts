import type { ExpectedRevision } from './event-store';

/** The stream was not at the expected revision. Command handlers retry or answer 409. */
export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * The store refused a write as too large (EventStoreDB: `MaxAppendSizeExceededError`, 1 MiB by
 * default, the server's `MaxAppendSize`). Mapped to 413 in src/api/shared/error-mapping.ts.
 */
export class AppendTooLargeError extends Error {
  constructor(
    readonly streamId: string,
    readonly maxAppendSizeBytes: number | undefined,
  ) {
    super(
      `append to ${streamId} refused by the event store: larger than its maximum append size` +
        (maxAppendSizeBytes === undefined ? '' : ` of ${maxAppendSizeBytes} bytes`),
    );
    this.name = 'AppendTooLargeError';
  }
}

/** The event store server cannot be used as it is (too old, or missing a permission); start-up stops with this message. */
export class EventStoreServerUnsuitableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventStoreServerUnsuitableError';
  }
}
