/**
 * The match thread's entry: plays the match it is given (match-play.ts) and posts the result, or
 * the error that stopped it, to the thread that started it (match-runner.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { playMatch } from './match-play';
import type { MatchThreadInput, MatchThreadMessage } from './match-types';

const port = parentPort;
if (port !== null) {
  playMatch(workerData as MatchThreadInput).then(
    (result) => port.postMessage({ ok: true, result } satisfies MatchThreadMessage),
    (error: unknown) =>
      port.postMessage({
        ok: false,
        error: error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) },
      } satisfies MatchThreadMessage),
  );
}
