/**
 * The match thread's entry: plays each match it is sent (match-play.ts), one at a time, and posts
 * the result, or the error that stopped it, to the thread that started it (match-runner.ts).
 */
import { parentPort } from 'node:worker_threads';
import { playMatch } from './match-play';
import type { MatchThreadInput, MatchThreadMessage } from './match-types';

const port = parentPort;
port?.on('message', (input: MatchThreadInput) => {
  playMatch(input).then(
    (result) => port.postMessage({ ok: true, result } satisfies MatchThreadMessage),
    (error: unknown) =>
      port.postMessage({
        ok: false,
        error: error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) },
      } satisfies MatchThreadMessage),
  );
});
