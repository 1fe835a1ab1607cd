import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandServices } from '../../commands/command-states';
import type { RunningRole } from '../../infrastructure/running-role';
import { runReplay } from './replay-runner';
import { readSystemStatus } from './system-status';

/**
 * The operators' channel into a running process: HTTP over a Unix socket in DATA_DIR/run (a 0700
 * directory), so only the account that runs the app (or root) can connect, and nothing listens on
 * the network. `arena status` and `arena replay` use it when an app runs; they open the engines
 * themselves only when nothing answers.
 *
 *   GET  /status               the system status (JSON)
 *   POST /replay/<projection>  rebuild and swap in; NDJSON lines {type:progress|done|error, ...}
 */
export function adminSocketPath(dataDir: string): string {
  const path = join(dataDir, 'run', 'admin.sock');
  // Unix socket paths are limited to ~107 bytes; a deep DATA_DIR gets a per-directory path in tmp.
  if (Buffer.byteLength(path) <= 100) return path;
  const digest = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  return join(tmpdir(), `arena-admin-${digest}.sock`);
}

export async function startAdminChannel(services: CommandServices): Promise<RunningRole> {
  const path = adminSocketPath(services.config.dataDir);
  const logger = services.logger.child({ component: 'admin-channel' });
  mkdirSync(join(services.config.dataDir, 'run'), { recursive: true, mode: 0o700 });
  chmodSync(join(services.config.dataDir, 'run'), 0o700);
  if (existsSync(path)) {
    if (await answers(path)) {
      // Another process of this deployment shares DATA_DIR and serves the channel already.
      logger.warn({ path }, 'another process serves the admin channel; this one does not');
      return { name: 'admin-channel', stop: async () => undefined };
    }
    unlinkSync(path);
  }
  let replaying: string | undefined;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'admin request failed');
      if (!res.headersSent) sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.end();
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'GET' && url.pathname === '/status') {
      sendJson(res, 200, await readSystemStatus(services));
      return;
    }
    const replay = /^\/replay\/([\w.-]+)$/.exec(url.pathname);
    if (req.method === 'POST' && replay) {
      const name = replay[1]!;
      if (replaying) {
        sendJson(res, 409, { error: `a replay of ${replaying} is running` });
        return;
      }
      replaying = name;
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      const line = (value: object) => res.write(`${JSON.stringify(value)}\n`);
      try {
        let lastWrite = 0;
        const results = await runReplay(services, name, (progress) => {
          if (Date.now() - lastWrite < 100) return;
          lastWrite = Date.now();
          line({ type: 'progress', ...progress });
        });
        line({ type: 'done', results });
      } catch (error) {
        logger.error({ err: error, projection: name }, 'replay failed');
        line({ type: 'error', error: error instanceof Error ? error.message : String(error) });
      } finally {
        replaying = undefined;
        res.end();
      }
      return;
    }
    sendJson(res, 404, { error: 'GET /status or POST /replay/<projection>' });
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  logger.info({ path }, 'admin channel listening');
  return {
    name: 'admin-channel',
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Client side: one request over the admin socket. Rejects with code ENOENT/ECONNREFUSED when no app runs. */
export function adminRequest(
  dataDir: string,
  method: 'GET' | 'POST',
  path: string,
  onLine?: (line: unknown) => void,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: adminSocketPath(dataDir), method, path }, (res) => {
      let body = '';
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (!onLine) return;
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const text = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (text.trim()) onLine(JSON.parse(text) as unknown);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
