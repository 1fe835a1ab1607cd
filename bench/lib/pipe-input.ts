/**
 * Writing to a process's stdin pipe with one `writeSync` per message while nothing is queued: the
 * usual message is one system call and no stream machinery. When the pipe is full (the process
 * stopped reading), the rest goes to a stream on the same fd, which queues it and writes it once
 * the pipe has room, in order; until then `pending` is true and the caller must not reuse the
 * buffer it passed. Evaluated for the agent protocol in round five and not adopted
 * (docs/performance.md, "Branch i9-proto5"); `bench/pipe-floor.ts` measures the floor with it.
 */
import { writeSync } from 'node:fs';
import { Socket } from 'node:net';

export interface ProcessInput {
  /** Sends `bytes`; whatever the pipe does not take at once is queued, in order. */
  write(bytes: Buffer): void;
  /** True while an earlier write still waits for the process to read. */
  readonly pending: boolean;
  readonly writable: boolean;
  /** The process reads end-of-file once it has read what was sent. */
  end(): void;
  destroy(): void;
}

/** The host's non-blocking write end of a pipe, owned from now on (closed by `destroy`). */
export function pipeInput(fd: number): ProcessInput {
  const queue = new Socket({ fd, readable: false, writable: true });
  queue.on('error', () => undefined); // EPIPE after the agent died: reported via 'exit'
  let open = true;
  const writeDirectly = (bytes: Buffer): number => {
    try {
      return writeSync(fd, bytes);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 0;
      if (code === 'EPIPE') {
        // The reader is gone: reported through the process's exit, as with the stream.
        open = false;
        return bytes.length;
      }
      throw error;
    }
  };
  return {
    write: (bytes) => {
      if (!open || !queue.writable) return;
      if (queue.writableLength > 0) {
        queue.write(bytes);
        return;
      }
      const written = writeDirectly(bytes);
      if (written < bytes.length) queue.write(bytes.subarray(written));
    },
    get pending() {
      return queue.writableLength > 0;
    },
    get writable() {
      return open && queue.writable;
    },
    end: () => {
      open = false;
      queue.end();
    },
    destroy: () => {
      open = false;
      queue.destroy();
    },
  };
}
