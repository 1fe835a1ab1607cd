import { WrongExpectedRevisionError } from '../eventstore/errors';
import { EventStoreDecorator } from '../eventstore/event-store-decorator';
import { streamCategory, type AppendOptions, type AppendResult, type EventStore, type NewEvent } from '../eventstore/event-store';
import { eventStoreAppendConflicts, eventStoreAppendDuration, eventStoreEventsAppended, workerJobDuration } from './arena-metrics';

/** Start and end events of the work the workers do; their distance is the job's duration. */
const WORK_PHASES: Record<string, { kind: string; phase: 'start' } | { kind: string; phase: 'end'; outcome: string }> = {
  BuildStarted: { kind: 'build', phase: 'start' },
  BuildSucceeded: { kind: 'build', phase: 'end', outcome: 'succeeded' },
  BuildFailed: { kind: 'build', phase: 'end', outcome: 'failed' },
  MatchStarted: { kind: 'match', phase: 'start' },
  MatchCompleted: { kind: 'match', phase: 'end', outcome: 'completed' },
  MatchFailed: { kind: 'match', phase: 'end', outcome: 'failed' },
  TrainingStarted: { kind: 'training', phase: 'start' },
  TrainingCompleted: { kind: 'training', phase: 'end', outcome: 'completed' },
  TrainingFailed: { kind: 'training', phase: 'end', outcome: 'failed' },
  TrainingCancelled: { kind: 'training', phase: 'end', outcome: 'cancelled' },
};

/** Bounded: a worker that dies mid-job never appends the end event. */
const MAX_OPEN_JOBS = 10_000;

/**
 * The EventStore port with metrics: append durations, conflicts, and worker job durations (the
 * worker that appends a job's start event appends its end too, so one process sees both).
 */
export class InstrumentedEventStore extends EventStoreDecorator {
  private readonly openJobs = new Map<string, number>();

  async append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const category = streamCategory(streamId);
    const stop = eventStoreAppendDuration.startTimer({ category });
    try {
      const result = await this.inner.append(streamId, events, options);
      stop({ outcome: 'ok' });
      eventStoreEventsAppended.inc({ category }, events.length);
      this.observeWork(streamId, events);
      return result;
    } catch (error) {
      const conflict = error instanceof WrongExpectedRevisionError;
      stop({ outcome: conflict ? 'conflict' : 'error' });
      if (conflict) eventStoreAppendConflicts.inc({ category });
      throw error;
    }
  }

  /** The adapter underneath (status reads the PostgreSQL store's tables directly). */
  get adapter(): EventStore {
    return this.inner;
  }

  private observeWork(streamId: string, events: NewEvent[]): void {
    for (const event of events) {
      const phase = WORK_PHASES[event.type];
      if (!phase) continue;
      const key = `${phase.kind}:${streamId}`;
      if (phase.phase === 'start') {
        if (this.openJobs.size >= MAX_OPEN_JOBS) this.openJobs.delete(this.openJobs.keys().next().value as string);
        this.openJobs.set(key, performance.now());
        continue;
      }
      const startedAt = this.openJobs.get(key);
      if (startedAt === undefined) continue;
      this.openJobs.delete(key);
      workerJobDuration.observe({ kind: phase.kind, outcome: phase.outcome }, (performance.now() - startedAt) / 1000);
    }
  }
}
