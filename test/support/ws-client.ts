import { WebSocket } from 'ws';

export interface WebSocketTestClient {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<number>;
  /** The close code and the reason the server gave. */
  closedWith: Promise<{ code: number; reason: string }>;
  next(predicate?: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** A ws client that records every message; `next(predicate)` waits for the first match (seen or future). */
export function connectWebSocket(url: string): Promise<WebSocketTestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: Record<string, unknown>[] = [];
    const waiters: { predicate: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      messages.push(message);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
    const closedWith = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString('utf8') })));
    const closed = closedWith.then(({ code }) => code);
    const client: WebSocketTestClient = {
      ws,
      messages,
      closed,
      closedWith,
      next: (predicate = () => true) =>
        new Promise((r) => {
          const seen = messages.find(predicate);
          if (seen) r(seen);
          else waiters.push({ predicate, resolve: r });
        }),
    };
    ws.on('open', () => resolve(client));
    ws.on('error', reject);
  });
}

