#!/usr/bin/env node
/**
 * A trainer for tests: speaks the trainer protocol (docs/training.md, "Trainer protocol") without
 * learning anything. It reads the job spec from stdin, prints a progress line every
 * progress_interval_timesteps (sleeping TRAINER_STEP_MS before each), answers SIGTERM with a
 * `cancelled` line, writes a small JSON artefact into artifact_dir and prints `completed`.
 */
'use strict';
const { mkdirSync, writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');

let cancelRequested = false;
process.on('SIGTERM', () => (cancelRequested = true));
process.on('SIGINT', () => (cancelRequested = true));

const emit = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(spec) {
  const stepMs = Number(process.env.TRAINER_STEP_MS || '0');
  const total = spec.total_timesteps;
  const interval = spec.progress_interval_timesteps || Math.max(1, Math.ceil(total / 100));
  const started = Date.now();
  let timestep = 0;
  while (timestep < total) {
    await sleep(stepMs);
    if (cancelRequested) {
      emit({ type: 'cancelled', timestep });
      return 0;
    }
    timestep = Math.min(total, timestep + interval);
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    emit({ type: 'progress', timestep, total_timesteps: total, episode_reward: timestep / total, episode_length: 100, fps: timestep / seconds, loss: 1 - timestep / total });
  }
  mkdirSync(spec.artifact_dir, { recursive: true });
  const file = join(spec.artifact_dir, `policy-${spec.job_id.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  const artefact = { format: 'protocol-test-policy', job_id: spec.job_id, algorithm: spec.algorithm, environment: spec.environment, seed: spec.seed, trained_timesteps: timestep, trainer_pid: process.pid };
  writeFileSync(`${file}.partial`, JSON.stringify(artefact));
  renameSync(`${file}.partial`, file);
  emit({ type: 'completed', timestep, artifact_path: file, mean_return: 42.5 });
  return 0;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  let spec;
  try {
    spec = JSON.parse(input);
  } catch (error) {
    emit({ type: 'failed', reason: `bad job spec: ${error.message}` });
    process.exit(2);
  }
  main(spec).then(
    (code) => process.exit(code),
    (error) => {
      emit({ type: 'failed', reason: String(error && error.message ? error.message : error) });
      process.exit(1);
    },
  );
});
