import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/**
 * The one policy for errors nobody asked for: an `error` event on a socket, stream, child process,
 * database client or any other emitter; a promise nobody awaited. Node's default for an `error`
 * event without a listener is to throw it out of the event loop, which ends the process: one bad
 * WebSocket frame would take down the API, the workers and the embedded database with it.
 *
 * What happens instead, everywhere:
 *   1. the error is logged once, structured (`unexpected_error: true`, the resource's kind and id);
 *   2. that one resource is closed (the connection, the child process, the job) - never more;
 *   3. the process keeps serving.
 *
 * Every emitter the code creates gets `containErrors` at creation, before anything can fail on it.
 * `installProcessErrorPolicy` is the last line: an unhandled rejection is logged and the process
 * goes on; an uncaught exception is logged and the process exits 1 (its state is unknown; the
 * event store is durable, so a supervisor's restart loses nothing acknowledged).
 */
export interface ContainedResource {
  /** What the emitter is: `websocket`, `upgrade_socket`, `child_process`, `pg_client`, ... */
  kind: string;
  /** Which one (connection id, pid, job id), for the log line. */
  id?: string;
  /** Closes this one resource. Called at most once; errors it throws are logged too. */
  close?: () => void;
}

export function containErrors(emitter: EventEmitter, logger: Logger, resource: ContainedResource): void {
  let closed = false;
  emitter.on('error', (error: unknown) => {
    logger.warn({ err: error, unexpected_error: true, resource: resource.kind, resource_id: resource.id }, `${resource.kind} failed; closing it`);
    if (closed || !resource.close) return;
    closed = true;
    try {
      resource.close();
    } catch (closeError) {
      logger.warn({ err: closeError, resource: resource.kind, resource_id: resource.id }, `${resource.kind} did not close cleanly`);
    }
  });
}

let installed = false;

export function installProcessErrorPolicy(logger: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason, unexpected_error: true, resource: 'promise' }, 'unhandled promise rejection; the process goes on');
  });
  process.on('uncaughtException', (error: Error) => {
    logger.fatal({ err: error, unexpected_error: true, resource: 'process' }, 'uncaught exception; exiting');
    exit(1);
  });
}
