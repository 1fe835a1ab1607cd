import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * WebSocket frames written by hand on a raw TCP socket, for tests that send what a well-behaved
 * client library never would: oversize, malformed or unmasked frames, and connections that drop
 * mid-frame.
 */
export const OPCODE = { text: 0x1, binary: 0x2, reserved: 0x3 } as const;

/** One client frame (masked unless `masked: false`), FIN set, optional RSV bits. */
export function clientFrame(opcode: number, payload: Buffer, options: { masked?: boolean; rsv?: number; declaredLength?: number } = {}): Buffer {
  const masked = options.masked ?? true;
  const length = options.declaredLength ?? payload.length;
  const head: number[] = [0x80 | ((options.rsv ?? 0) << 4) | opcode];
  const maskBit = masked ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(BigInt(length));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), extended, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from(head), extended, mask, body]);
}

export function upgradeRequest(host: string, path: string): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
}

export interface RawExchange {
  /** Everything the server sent back (handshake, frames), as latin1 text. */
  received: string;
  /** How the socket ended: the server closed it, or we gave up waiting. */
  ending: 'closed' | 'timeout';
}

/**
 * Opens a TCP connection, writes the upgrade request and `frames` in one go (so the frames are in
 * flight whatever the server decides about the handshake), then either waits for the server to
 * close (up to `waitMs`) or, with `abort`, destroys the socket right after writing.
 */
export function rawWebSocketExchange(
  baseUrl: string,
  path: string,
  frames: Buffer[],
  options: { abort?: boolean; waitMs?: number } = {},
): Promise<RawExchange> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let received = '';
    const socket: Socket = connect(Number(url.port), url.hostname);
    const finish = (ending: RawExchange['ending']) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, ending });
    };
    const timer = setTimeout(() => finish('timeout'), options.waitMs ?? 3000);
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('connect', () => {
      socket.write(Buffer.concat([upgradeRequest(url.host, path), ...frames]), () => {
        if (options.abort) {
          socket.resetAndDestroy();
          finish('closed');
        }
      });
    });
  });
}
