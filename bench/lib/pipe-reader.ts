/**
 * Reads one pipe on a thread of its own with blocking reads, and hands each chunk, stamped with
 * the time it arrived, to the thread that consumes it through a ring in shared memory; every chunk
 * rings the consumer's doorbell. The consumer never waits on a pipe itself, so one thread can wait
 * for several agents at once and still know when each answer came (the chess clock charges each
 * agent its own time), and a wake-up costs a futex instead of a trip through the event loop.
 *
 * The reader stops at end-of-file (every write end closed: the process died or was killed) or on
 * a read error. When the ring is full it waits for the consumer, so the pipe fills and the writer
 * blocks, as with any unread pipe.
 */
import { closeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Doorbell } from './doorbell';

const RECORDS = 64;
const CAPACITY = 64 * 1024;
/**
 * header: [0] chunks in the ring, [1] 1 at end-of-file / 2 after a read error, [2] 1 once the
 * thread runs, [3] bytes in the ring, [4] 1 while the thread waits for room in the ring.
 */
const HEADER_CELLS = 6;
const TIMES_AT = HEADER_CELLS * 4;
const OFFSETS_AT = TIMES_AT + 8 * RECORDS;
const LENGTHS_AT = OFFSETS_AT + 4 * RECORDS;
const DATA_AT = LENGTHS_AT + 4 * RECORDS;

/** The thread's program (plain JavaScript: it runs in a bare worker, with no TypeScript loader). */
const READER_THREAD = `
'use strict';
const { workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { fd, shared, bell, records, capacity, timesAt, offsetsAt, lengthsAt, dataAt } = workerData;
const header = new Int32Array(shared, 0, 6);
const times = new Float64Array(shared, timesAt, records);
const offsets = new Int32Array(shared, offsetsAt, records);
const lengths = new Int32Array(shared, lengthsAt, records);
const data = new Uint8Array(shared, dataAt, capacity);
const doorbell = new Int32Array(bell, 0, 2);
// Wakes the consumer only once as many chunks came as it is waiting for (doorbell.ts).
const ring = () => { Atomics.add(doorbell, 0, 1); if (Atomics.sub(doorbell, 1, 1) <= 1) Atomics.notify(doorbell, 0); };
const waitWhile = (cell, value) => {
  Atomics.store(header, 4, 1);
  if (Atomics.load(header, cell) === value) Atomics.wait(header, cell, value);
  Atomics.store(header, 4, 0);
};
Atomics.store(header, 2, 1);
let write = 0;
let record = 0;
for (;;) {
  let chunks = Atomics.load(header, 0);
  while (chunks >= records) { waitWhile(0, chunks); chunks = Atomics.load(header, 0); }
  let used = Atomics.load(header, 3);
  while (used >= capacity) { waitWhile(3, used); used = Atomics.load(header, 3); }
  if (used === 0) write = 0;
  const readAt = (write - used + capacity) % capacity;
  if (write === capacity) write = 0;
  const room = used > 0 && write < readAt ? readAt - write : capacity - write;
  let count;
  try {
    count = readSync(fd, data, write, room, null);
  } catch (error) {
    if (error && (error.code === 'EINTR' || error.code === 'EAGAIN')) continue;
    count = -1;
  }
  if (count <= 0) {
    Atomics.store(header, 1, count === 0 ? 1 : 2);
    ring();
    break;
  }
  const [seconds, nanoseconds] = process.hrtime();
  const slot = record % records;
  times[slot] = seconds * 1e3 + nanoseconds / 1e6;
  offsets[slot] = write;
  lengths[slot] = count;
  record += 1;
  write += count;
  Atomics.add(header, 3, count);
  Atomics.add(header, 0, 1);
  ring();
}
`;

export class PipeReader {
  private readonly shared = new SharedArrayBuffer(DATA_AT + CAPACITY);
  private readonly header = new Int32Array(this.shared, 0, HEADER_CELLS);
  private readonly times = new Float64Array(this.shared, TIMES_AT, RECORDS);
  private readonly offsets = new Int32Array(this.shared, OFFSETS_AT, RECORDS);
  private readonly lengths = new Int32Array(this.shared, LENGTHS_AT, RECORDS);
  private readonly thread: Worker;
  private next = 0;
  private finished = false;

  /** Starts reading `fd` (a blocking read end, owned by the reader from now on: it closes it at the end). */
  constructor(fd: number, doorbell: Doorbell) {
    this.thread = new Worker(READER_THREAD, {
      eval: true,
      workerData: { fd, shared: this.shared, bell: doorbell.buffer, records: RECORDS, capacity: CAPACITY, timesAt: TIMES_AT, offsetsAt: OFFSETS_AT, lengthsAt: LENGTHS_AT, dataAt: DATA_AT },
      // A bare thread: none of the starting thread's flags (a TypeScript loader, say).
      execArgv: [],
    });
    this.thread.unref();
    this.thread.once('exit', () => closeSync(fd));
  }

  /** True once the thread runs (before that, nothing it will read has been missed). */
  get started(): boolean {
    return Atomics.load(this.header, 2) === 1;
  }

  /** True once end-of-file (or a read error) was reached and every chunk before it was handed over. */
  get ended(): boolean {
    return this.finished;
  }

  /** Hands every chunk that arrived to `onChunk` (a view of shared memory: valid only during the call). */
  drain(onChunk: (chunk: Buffer, arrivedAtMs: number) => void): void {
    if (this.finished) return;
    const endSeen = Atomics.load(this.header, 1) !== 0;
    let chunks = Atomics.load(this.header, 0);
    if (chunks === 0) {
      if (endSeen) this.finished = true;
      return;
    }
    while (chunks > 0) {
      const slot = this.next % RECORDS;
      const length = this.lengths[slot]!;
      onChunk(Buffer.from(this.shared, DATA_AT + this.offsets[slot]!, length), this.times[slot]!);
      this.next += 1;
      Atomics.sub(this.header, 3, length);
      chunks = Atomics.sub(this.header, 0, 1) - 1;
      if (chunks === 0) chunks = Atomics.load(this.header, 0);
    }
    if (Atomics.load(this.header, 4) === 1) {
      Atomics.notify(this.header, 0);
      Atomics.notify(this.header, 3);
    }
    if (endSeen && Atomics.load(this.header, 0) === 0) this.finished = true;
  }
}
