import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

const PRODUCE_API_KEY = 0;

/**
 * The network between a kafkajs client and one real broker, with two faults a test can switch on:
 * `loseNextProduceAnswer()` lets the next Produce request reach the broker (which appends it) and
 * breaks the connection instead of passing its answer back, then refuses new connections, as a
 * broker that stops or crashes right after writing looks to the client; `heal()` ends that.
 * Frames are parsed only as far as Kafka's size prefix, API key and correlation id.
 */
export class FaultyKafkaLink {
  private armed = false;
  private down = false;
  private readonly sockets = new Set<net.Socket>();
  /** Produce requests that reached the broker and whose answers were lost. */
  lostAnswers = 0;

  constructor(private readonly broker: { host: string; port: number }) {}

  readonly socketFactory: ISocketFactory = ({ onConnect }) => {
    const client = new net.Socket();
    if (this.down) {
      // As a stopped broker: the connection is refused.
      setImmediate(() => client.destroy(Object.assign(new Error('connect ECONNREFUSED (faulty link down)'), { code: 'ECONNREFUSED' })));
      return client;
    }
    const upstream = net.connect(this.broker, onConnect);
    this.track(upstream);
    return this.relay(upstream);
  };

  loseNextProduceAnswer(): void {
    this.armed = true;
  }

  heal(): void {
    this.armed = false;
    this.down = false;
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /**
   * The client's socket is the upstream one itself, with its writes and reads watched: kafkajs
   * writes whole requests, and answers are read frame by frame.
   */
  private relay(upstream: net.Socket): net.Socket {
    const lostCorrelationIds = new Set<number>();
    const write = upstream.write.bind(upstream) as (chunk: Buffer | string, ...rest: unknown[]) => boolean;
    upstream.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (this.armed && buffer.length >= 12 && buffer.readInt16BE(4) === PRODUCE_API_KEY) {
        this.armed = false;
        lostCorrelationIds.add(buffer.readInt32BE(8));
      }
      return write(chunk, ...rest);
    }) as typeof upstream.write;
    const emit = upstream.emit.bind(upstream) as (event: string | symbol, ...args: unknown[]) => boolean;
    let pending = Buffer.alloc(0);
    upstream.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event !== 'data' || lostCorrelationIds.size === 0) return emit(event, ...args);
      pending = Buffer.concat([pending, args[0] as Buffer]);
      while (pending.length >= 8) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(0, 4 + size);
        pending = pending.subarray(4 + size);
        if (lostCorrelationIds.has(frame.readInt32BE(4))) {
          // The broker has appended the batch; the client never hears of it, and the broker is gone.
          this.lostAnswers += 1;
          this.down = true;
          for (const socket of this.sockets) socket.destroy(new Error('connection reset (faulty link lost the answer)'));
          return true;
        }
        emit('data', frame);
      }
      return true;
    }) as typeof upstream.emit;
    return upstream;
  }
}
