/**
 * What the training loops share: episode bookkeeping, progress reports at a fixed timestep
 * interval, and cooperative pauses so the process can notice SIGTERM during a long run.
 */

export interface TrainingProgress {
  timestep: number;
  /** Mean return of the episodes finished since the previous report (of the last one if none); null before any. */
  episodeReward: number | null;
  episodeLength: number | null;
  /** Environment steps per second since the previous report. */
  fps: number;
  /** Mean training loss since the previous report (SAC: critic loss, DQN: Huber TD loss); null before learning starts. */
  loss: number | null;
}

export interface TrainingHooks {
  progressIntervalTimesteps: number;
  onProgress(progress: TrainingProgress): void;
  /** Polled between steps; returning true ends the run as cancelled. */
  shouldStop(): boolean;
  /** Milliseconds; only used for fps and for deciding when to pause, never for the learning itself. */
  now(): number;
}

export type TrainingStatus = 'completed' | 'cancelled';

/** Hand control to the event loop this often so signal handlers and stdout flushing get to run. */
const PAUSE_EVERY_MS = 50;

export class ProgressTracker {
  private episodeReturn = 0;
  private episodeLength = 0;
  private finishedReturns: number[] = [];
  private finishedLengths: number[] = [];
  private lastReturn: number | null = null;
  private lastLength: number | null = null;
  private lossSum = 0;
  private lossCount = 0;
  private lastReportTimestep = 0;
  private lastReportMs: number;
  private lastPauseMs: number;

  constructor(private readonly hooks: TrainingHooks) {
    this.lastReportMs = hooks.now();
    this.lastPauseMs = this.lastReportMs;
  }

  recordStep(reward: number, done: boolean): void {
    this.episodeReturn += reward;
    this.episodeLength += 1;
    if (!done) return;
    this.finishedReturns.push(this.episodeReturn);
    this.finishedLengths.push(this.episodeLength);
    this.episodeReturn = 0;
    this.episodeLength = 0;
  }

  recordLoss(loss: number): void {
    this.lossSum += loss;
    this.lossCount += 1;
  }

  /**
   * Call after each step with the number of steps taken so far. Reports when due, and returns
   * true when the loop should `await pauseForEvents()` (a plain boolean keeps the per-step cost
   * to a comparison instead of a promise).
   */
  afterStep(timestep: number, totalTimesteps: number): boolean {
    if (timestep - this.lastReportTimestep >= this.hooks.progressIntervalTimesteps || timestep === totalTimesteps) {
      this.report(timestep);
    }
    const now = this.hooks.now();
    if (now - this.lastPauseMs < PAUSE_EVERY_MS) return false;
    this.lastPauseMs = now;
    return true;
  }

  private report(timestep: number): void {
    const now = this.hooks.now();
    if (this.finishedReturns.length > 0) {
      this.lastReturn = mean(this.finishedReturns);
      this.lastLength = mean(this.finishedLengths);
      this.finishedReturns = [];
      this.finishedLengths = [];
    }
    const seconds = Math.max(1e-3, (now - this.lastReportMs) / 1000);
    this.hooks.onProgress({
      timestep,
      episodeReward: this.lastReturn,
      episodeLength: this.lastLength,
      fps: (timestep - this.lastReportTimestep) / seconds,
      loss: this.lossCount > 0 ? this.lossSum / this.lossCount : null,
    });
    this.lossSum = 0;
    this.lossCount = 0;
    this.lastReportTimestep = timestep;
    this.lastReportMs = now;
  }
}

export const pauseForEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
