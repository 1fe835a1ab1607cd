/**
 * The built-in trainer as a child process. Usage:
 *
 *   node dist/src/workers/training/trainer-process.js '<job spec JSON>'
 *   node dist/src/workers/training/trainer-process.js < job.json
 *
 * It writes one JSON object per line to stdout (progress..., then exactly one of completed /
 * failed / cancelled) and the policy artefact to <artifact_dir>/policy-<job_id>.json. SIGTERM or
 * SIGINT stops it cleanly with a `cancelled` line. The protocol is in docs/training.md and
 * src/domain/training/trainer-protocol.ts; external trainers speak the same one.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  TRAINER_EXIT_CODES,
  type TrainerJobSpec,
  type TrainerLine,
  trainerJobSpecSchema,
} from '../../domain/training/trainer-protocol';
import { runTrainingJob } from '../../ml/run-training-job';

export interface TrainerProcessIo {
  /** Arguments after the script path. */
  args: readonly string[];
  readStdin(): Promise<string>;
  writeLine(line: TrainerLine): void;
  /** Registers the cancel handler (SIGTERM/SIGINT in the real process). */
  onStopRequest(handler: () => void): void;
  now(): number;
}

export const artifactFileName = (jobId: string): string => `policy-${jobId.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;

/** Runs one job and returns the exit code; never throws. */
export async function runTrainerProcess(io: TrainerProcessIo): Promise<number> {
  let spec: TrainerJobSpec;
  try {
    spec = await readJobSpec(io);
  } catch (error) {
    io.writeLine({ type: 'failed', reason: `invalid job spec: ${describe(error)}` });
    return TRAINER_EXIT_CODES.usage;
  }
  let stopRequested = false;
  io.onStopRequest(() => {
    stopRequested = true;
  });
  try {
    const outcome = await runTrainingJob(spec, {
      now: io.now,
      shouldStop: () => stopRequested,
      onProgress: (progress) =>
        io.writeLine({
          type: 'progress',
          timestep: progress.timestep,
          total_timesteps: spec.total_timesteps,
          episode_reward: progress.episodeReward,
          episode_length: progress.episodeLength,
          fps: progress.fps,
          loss: progress.loss,
        }),
    });
    if (outcome.status === 'cancelled') {
      io.writeLine({ type: 'cancelled', timestep: outcome.timestep });
      return TRAINER_EXIT_CODES.success;
    }
    const artifactPath = await writeArtifact(spec, JSON.stringify(outcome.artifact));
    io.writeLine({ type: 'completed', timestep: outcome.timestep, artifact_path: artifactPath, mean_return: outcome.meanReturn });
    return TRAINER_EXIT_CODES.success;
  } catch (error) {
    io.writeLine({ type: 'failed', reason: describe(error) });
    return TRAINER_EXIT_CODES.failed;
  }
}

async function readJobSpec(io: TrainerProcessIo): Promise<TrainerJobSpec> {
  const argument = io.args[0];
  const text = argument === undefined || argument === '-' ? await io.readStdin() : argument;
  const parsed = trainerJobSpecSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
  return parsed.data;
}

/** Written under a temporary name and renamed, so a reader never sees half a file. */
async function writeArtifact(spec: TrainerJobSpec, json: string): Promise<string> {
  const directory = resolve(spec.artifact_dir);
  await mkdir(directory, { recursive: true });
  const path = join(directory, artifactFileName(spec.job_id));
  await writeFile(`${path}.partial`, json);
  await rename(`${path}.partial`, path);
  return path;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

if (require.main === module) {
  void runTrainerProcess({
    args: process.argv.slice(2),
    readStdin: () => readAll(process.stdin),
    writeLine: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
    onStopRequest: (handler) => {
      process.on('SIGTERM', handler);
      process.on('SIGINT', handler);
    },
    now: () => performance.now(),
  }).then((code) => {
    // exitCode rather than exit(): lets stdout drain when it is a pipe.
    process.exitCode = code;
  });
}
