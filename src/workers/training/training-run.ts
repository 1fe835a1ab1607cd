/**
 * One run of a training job on this worker: the trainer child process, its protocol lines turned
 * into TrainingProgressed events (throttled), heartbeats while it is quiet, the cancel request
 * picked up from the job's stream, and the run's end recorded as exactly one of completed,
 * failed, cancelled or requeued (worker shutdown).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ConflictError } from '../../domain/shared/errors';
import { parseTrainerLine, type TrainerJobSpecInput, type TrainerLine, type TrainerProgressLine } from '../../domain/training/trainer-protocol';
import type { TrainingJob, TrainingJobCommand } from '../../domain/training/training-job';
import type { ArtifactStore } from '../../infrastructure/artifacts/artifact-store';
import { trainerEnvironment } from './trainer-command';

export interface TrainingRunTiming {
  /** At most one TrainingProgressed per this many ms (the last one before the end always goes). */
  progressIntervalMs: number;
  /** A heartbeat when nothing was recorded for this long. */
  heartbeatAfterMs: number;
  /** How often the job's stream is read for a cancel request. */
  cancelPollMs: number;
  /** SIGKILL when the trainer has not exited this long after SIGTERM. */
  stopGraceMs: number;
}

/**
 * Where a run records what happens and learns whether it is still current: the job's event
 * stream on a server worker (TrainingJobStream), the runner routes for `arena runner`
 * (RemoteTrainingJob). `execute` throws ConflictError when the run is no longer current.
 */
export interface TrainingRunStream {
  readonly jobId: string;
  readonly current: TrainingJob;
  refresh(): Promise<unknown>;
  execute(command: TrainingJobCommand): Promise<unknown>;
}

export interface TrainingRunOptions {
  stream: TrainingRunStream;
  workerId: string;
  attempt: number;
  totalTimesteps: number;
  /** argv of the trainer, or why there is none (the run then fails at once). */
  command: { command: string[] } | { problem: string };
  spec: TrainerJobSpecInput & { artifact_dir: string };
  artifacts: Pick<ArtifactStore, 'put'>;
  timing: TrainingRunTiming;
  logger: Logger;
  now: () => Date;
}

/** How a run ended, as recorded on the job's stream; `superseded`: the job moved on without it. */
export type TrainingRunEnd = 'completed' | 'failed' | 'cancelled' | 'requeued' | 'superseded' | 'unrecorded';

const STDERR_TAIL_CHARS = 2000;

export class TrainingRun {
  private child?: ChildProcessWithoutNullStreams;
  private stopReason?: 'cancel' | 'shutdown' | 'superseded';
  private pendingProgress?: TrainerProgressLine;
  private lastTimestep = 0;
  private lastRecordedAtMs = Date.now();
  private completedLine?: Extract<TrainerLine, { type: 'completed' }>;
  private failedReason?: string;
  private cancelledTimestep?: number;
  private spawnError?: Error;
  private stderrTail = '';
  private readonly timers: NodeJS.Timeout[] = [];
  private flushTimer?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;
  private writes: Promise<unknown> = Promise.resolve();
  private finished?: Promise<TrainingRunEnd>;

  constructor(private readonly options: TrainingRunOptions) {}

  get jobId(): string {
    return this.options.stream.jobId;
  }

  get attempt(): number {
    return this.options.attempt;
  }

  /** The trainer's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  run(): Promise<TrainingRunEnd> {
    this.finished ??= this.execute();
    return this.finished;
  }

  /** Worker shutdown: the trainer is stopped and the job requeued for another worker. */
  async stop(): Promise<TrainingRunEnd> {
    this.requestStop('shutdown');
    return this.run();
  }

  private async execute(): Promise<TrainingRunEnd> {
    const { command, spec, logger } = this.options;
    if ('problem' in command) return this.end({ type: 'FailTraining', reason: command.problem, ...this.runRef() });
    try {
      await rm(spec.artifact_dir, { recursive: true, force: true });
      await mkdir(spec.artifact_dir, { recursive: true });
      const exit = await this.runTrainer(command.command);
      logger.info({ ...exit, lastTimestep: this.lastTimestep }, 'trainer exited');
      return await this.recordEnd(exit);
    } finally {
      this.clearTimers();
      await rm(spec.artifact_dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private runTrainer(argv: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const [file, ...args] = argv;
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: trainerEnvironment() });
    this.child = child;
    if (this.stopReason) child.kill('SIGTERM'); // stopped before it started
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
      child.once('error', (error) => {
        this.spawnError = error;
        resolveExit({ code: null, signal: null });
      });
      child.once('close', (code, signal) => resolveExit({ code, signal }));
    });
    child.stdin.on('error', () => undefined); // a trainer that exits before reading its spec
    child.stdin.end(JSON.stringify(this.options.spec));
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (text) => this.onLine(text));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    });
    const { heartbeatAfterMs, cancelPollMs } = this.options.timing;
    this.timers.push(setInterval(() => this.heartbeatIfQuiet(), Math.max(50, Math.floor(heartbeatAfterMs / 4))));
    this.timers.push(setInterval(() => void this.pollStream(), cancelPollMs));
    return exited;
  }

  private onLine(text: string): void {
    const line = parseTrainerLine(text);
    if (!line) {
      if (text.trim()) this.options.logger.debug({ line: text.slice(0, 500) }, 'trainer printed a non-protocol line');
      return;
    }
    switch (line.type) {
      case 'progress':
        this.onProgress(line);
        return;
      case 'completed':
        this.completedLine = line;
        this.lastTimestep = line.timestep;
        return;
      case 'failed':
        this.failedReason = line.reason;
        return;
      case 'cancelled':
        this.cancelledTimestep = line.timestep;
        return;
    }
  }

  private onProgress(line: TrainerProgressLine): void {
    this.lastTimestep = line.timestep;
    this.pendingProgress = line;
    const sinceMs = Date.now() - this.lastRecordedAtMs;
    const { progressIntervalMs } = this.options.timing;
    if (sinceMs >= progressIntervalMs) void this.flushProgress();
    else this.flushTimer ??= setTimeout(() => void this.flushProgress(), progressIntervalMs - sinceMs);
  }

  /** Records the newest progress line not recorded yet, if any. */
  private flushProgress(): Promise<unknown> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const line = this.pendingProgress;
    if (!line || this.stopReason === 'superseded') return this.writes;
    this.pendingProgress = undefined;
    this.lastRecordedAtMs = Date.now();
    const remaining = Math.max(0, this.options.totalTimesteps - line.timestep);
    return this.write({
      type: 'RecordTrainingProgress',
      ...this.runRef(),
      timestep: line.timestep,
      episodeReward: line.episode_reward,
      episodeLength: line.episode_length,
      fps: line.fps,
      loss: line.loss,
      estimatedTimeRemainingSec: line.fps > 0 ? Math.ceil(remaining / line.fps) : null,
    });
  }

  private heartbeatIfQuiet(): void {
    if (this.stopReason === 'superseded' || Date.now() - this.lastRecordedAtMs < this.options.timing.heartbeatAfterMs) return;
    this.lastRecordedAtMs = Date.now();
    void this.write({ type: 'RecordTrainingHeartbeat', ...this.runRef() });
  }

  /** The cancel request sits behind this run's own bus message, so it is read from the stream. */
  private async pollStream(): Promise<void> {
    try {
      await this.options.stream.refresh();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the training job stream');
      return;
    }
    const state = this.options.stream.current;
    if (state.status !== 'running' || state.attempt !== this.options.attempt || state.workerId !== this.options.workerId) {
      this.supersede(`job is ${state.status}, attempt ${state.status === 'none' ? 0 : state.attempt}`);
    } else if (state.cancelRequested) {
      this.requestStop('cancel');
    }
  }

  private requestStop(reason: 'cancel' | 'shutdown' | 'superseded'): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.options.logger.info({ reason }, 'stopping the trainer');
    if (!this.child) return;
    this.child.kill('SIGTERM');
    this.killTimer = setTimeout(() => this.child?.kill('SIGKILL'), this.options.timing.stopGraceMs);
  }

  private supersede(why: string): void {
    if (this.stopReason === 'superseded') return;
    this.options.logger.warn({ why }, 'this run is no longer the job\'s current run; abandoning it');
    this.stopReason = undefined; // a superseded run reports nothing, whatever stop came before
    this.requestStop('superseded');
  }

  private write(command: TrainingJobCommand): Promise<unknown> {
    this.writes = this.writes.then(async () => {
      if (this.stopReason === 'superseded') return;
      try {
        await this.options.stream.execute({ ...command, now: this.options.now().toISOString() } as TrainingJobCommand);
      } catch (error) {
        if (error instanceof ConflictError) this.supersede(error.message);
        // Anything else (the store unreachable) is retried by the next progress line or heartbeat.
        else this.options.logger.warn({ err: error, command: command.type }, 'could not record on the training job stream');
      }
    });
    return this.writes;
  }

  private async recordEnd(exit: { code: number | null; signal: NodeJS.Signals | null }): Promise<TrainingRunEnd> {
    this.clearTimers();
    if (this.stopReason === 'superseded') return 'superseded';
    await this.flushProgress(); // the last progress before the end is always recorded
    const ref = this.runRef();
    // A run that finished is kept even if a cancel or shutdown came in the last moment.
    if (this.completedLine && exit.code === 0) {
      const completed = this.completedLine;
      try {
        const stored = await this.storeArtifact(completed.artifact_path);
        return await this.end({
          type: 'CompleteTraining',
          ...ref,
          timestep: completed.timestep,
          artifactKey: stored.key,
          artifactSizeBytes: stored.sizeBytes,
          meanReturn: completed.mean_return,
        });
      } catch (error) {
        return this.end({ type: 'FailTraining', ...ref, reason: `the trained policy could not be stored: ${describe(error)}` });
      }
    }
    if (this.stopReason === 'cancel') {
      return this.end({ type: 'ConfirmTrainingCancelled', ...ref, timestep: this.cancelledTimestep ?? this.lastTimestep });
    }
    if (this.stopReason === 'shutdown') return this.end({ type: 'ReleaseTraining', ...ref, reason: 'the worker running it stopped' });
    return this.end({ type: 'FailTraining', ...ref, reason: this.failureReason(exit) });
  }

  private failureReason(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
    if (this.failedReason !== undefined) return this.failedReason;
    if (this.spawnError) return `the trainer could not be started: ${this.spawnError.message}`;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const stderr = this.stderrTail.trim();
    return `the trainer ${how} without a result${stderr ? `; stderr: ${stderr.slice(-500)}` : ''}`;
  }

  /** The trainer writes into artifact_dir; only a file there is taken (a path elsewhere could be anything). */
  private async storeArtifact(path: string): Promise<{ key: string; sizeBytes: number }> {
    const directory = resolve(this.options.spec.artifact_dir);
    const file = resolve(directory, path);
    const inside = relative(directory, file);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new Error(`artifact_path ${path} is not inside the job's artifact_dir`);
    }
    return this.options.artifacts.put(await readFile(file));
  }

  private async end(command: TrainingJobCommand): Promise<TrainingRunEnd> {
    await this.write(command);
    const state = this.options.stream.current;
    if (this.stopReason === 'superseded') return 'superseded';
    switch (state.status) {
      case 'completed':
      case 'failed':
      case 'cancelled':
        return state.status;
      case 'pending':
        return 'requeued';
      default:
        // Not recorded (the store was unreachable): the supervisor will requeue the quiet job.
        return 'unrecorded';
    }
  }

  private runRef(): { workerId: string; attempt: number; now: string } {
    return { workerId: this.options.workerId, attempt: this.options.attempt, now: this.options.now().toISOString() };
  }

  private clearTimers(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    clearTimeout(this.flushTimer);
    clearTimeout(this.killTimer);
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
