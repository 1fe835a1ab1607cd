import {
  trainingJobDecider,
  trainingJobStreamId,
  type TrainingJob,
  type TrainingJobCommand,
  type TrainingJobEvent,
} from '../../domain/training/training-job';
import type { EventMetadata, EventStore } from '../../infrastructure/eventstore/event-store';
import { handleCommand } from '../handle-command';
import { readAfter, WholeStreamSource, type LoadedState, type StateSource } from '../state-source';

/**
 * A training job's stream held open by the worker running it, on the one command handler. A run
 * appends about one event a second for hours; the stream keeps the folded state and revision in
 * memory (`HeldState`), decides on it without reading, and reads only what others appended since
 * (a cancel request) when an append meets them or `refresh` asks. Calls are serialized.
 */
export class TrainingJobStream {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: EventStore,
    readonly jobId: string,
    private readonly metadata: EventMetadata,
    private readonly held: HeldState,
  ) {}

  /** `initial`: where the first state comes from (a snapshot source for long jobs); the whole stream unless said. */
  static async open(
    store: EventStore,
    jobId: string,
    metadata: EventMetadata = {},
    initial: StateSource<TrainingJob> = new WholeStreamSource(store, trainingJobDecider),
  ): Promise<TrainingJobStream> {
    const held = new HeldState(store, trainingJobStreamId(jobId), await initial.load(trainingJobStreamId(jobId), { afterConflict: false }), initial);
    return new TrainingJobStream(store, jobId, metadata, held);
  }

  get current(): TrainingJob {
    return this.held.current.state;
  }

  /** Folds in what was appended since the last read; returns those events. */
  refresh(): Promise<TrainingJobEvent[]> {
    return this.serialized(() => this.held.catchUp());
  }

  /** Decides and appends; returns the appended events (none when the decider decided nothing changes). */
  execute(command: TrainingJobCommand): Promise<TrainingJobEvent[]> {
    return this.serialized(async () => {
      const outcome = await handleCommand(this.store, trainingJobStreamId(this.jobId), trainingJobDecider, command, {
        metadata: this.metadata,
        source: this.held,
      });
      return outcome.events;
    });
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * The state source of one held stream: the state in memory is trusted until an append meets a
 * concurrent writer; then (or on `catchUp`) the events after it are read and folded in.
 */
class HeldState implements StateSource<TrainingJob> {
  constructor(
    private readonly store: EventStore,
    private readonly streamId: string,
    public current: LoadedState<TrainingJob>,
    private readonly below: StateSource<TrainingJob>,
  ) {}

  async load(_streamId: string, options: { afterConflict: boolean }): Promise<LoadedState<TrainingJob>> {
    if (options.afterConflict) await this.catchUp();
    return this.current;
  }

  async appended(streamId: string, before: LoadedState<TrainingJob>, after: LoadedState<TrainingJob>): Promise<void> {
    this.current = after;
    await this.below.appended(streamId, before, after);
  }

  async catchUp(): Promise<TrainingJobEvent[]> {
    const { loaded, events } = await readAfter(this.store, this.streamId, trainingJobDecider, this.current);
    this.current = loaded;
    return events;
  }
}
