import {
  trainingJobDecider,
  trainingJobStreamId,
  type TrainingJob,
  type TrainingJobCommand,
  type TrainingJobEvent,
} from '../../domain/training/training-job';
import { WrongExpectedRevisionError } from '../../infrastructure/eventstore/errors';
import type { EventMetadata, EventStore } from '../../infrastructure/eventstore/event-store';
import { toNewEvent } from '../../infrastructure/eventstore/event-decoding';
import { toDomainEvent } from '../handle-command';

const MAX_ATTEMPTS = 5;

/**
 * A training job's stream held open by the worker running it. A run appends about one event a
 * second for hours; loading the whole stream for each append (handleCommand) would read it
 * quadratically. This keeps the folded state and revision, reads only what others appended since
 * (a cancel request), and otherwise does what handleCommand does: decide, append with the
 * expected revision, decide again on a conflict. Calls are serialized.
 */
export class TrainingJobStream {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: EventStore,
    readonly jobId: string,
    private readonly metadata: EventMetadata,
    private state: TrainingJob,
    private revision: bigint | null,
  ) {}

  static async open(store: EventStore, jobId: string, metadata: EventMetadata = {}): Promise<TrainingJobStream> {
    const stream = new TrainingJobStream(store, jobId, metadata, trainingJobDecider.initialState(), null);
    await stream.refresh();
    return stream;
  }

  get current(): TrainingJob {
    return this.state;
  }

  /** Folds in what was appended since the last read; returns those events. */
  refresh(): Promise<TrainingJobEvent[]> {
    return this.serialized(() => this.readNew());
  }

  /** Decides and appends; returns the appended events (none when the decider decided nothing changes). */
  execute(command: TrainingJobCommand): Promise<TrainingJobEvent[]> {
    return this.serialized(async () => {
      for (let attempt = 1; ; attempt++) {
        const events = trainingJobDecider.decide(command, this.state);
        if (events.length === 0) return events;
        try {
          const result = await this.store.append(
            trainingJobStreamId(this.jobId),
            events.map((event) => toNewEvent(event, this.metadata)),
            { expectedRevision: this.revision === null ? 'no_stream' : this.revision },
          );
          this.state = events.reduce(trainingJobDecider.evolve, this.state);
          this.revision = result.nextExpectedRevision;
          return events;
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError) || attempt >= MAX_ATTEMPTS) throw error;
          await this.readNew();
        }
      }
    });
  }

  private async readNew(): Promise<TrainingJobEvent[]> {
    const recorded = await this.store.readStream(
      trainingJobStreamId(this.jobId),
      this.revision === null ? {} : { fromRevision: this.revision + 1n },
    );
    const events = recorded.map((r) => toDomainEvent<TrainingJobEvent>(r));
    this.state = events.reduce(trainingJobDecider.evolve, this.state);
    if (recorded.length > 0) this.revision = recorded[recorded.length - 1].revision;
    return events;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
