import type { Knex } from 'knex';
import { Client, type Notification } from 'pg';
import type { Logger } from '../logging/logger';

/** One LISTEN registration: `ready` says whether the channel is being listened to yet. */
export interface ChannelListener {
  /** Resolves true once LISTEN on the channel is active, false if the connection failed for now. */
  ready: Promise<boolean>;
  /** Unregisters; the connection goes back to the pool when nobody listens any more. */
  close(): void;
}

interface Registration {
  channel: string;
  onNotification: (payload: string) => void;
  /** Called after every (re)connection: notifications sent meanwhile were missed, so look again. */
  onConnected?: () => void;
  settleReady: (listening: boolean) => void;
}

/**
 * The process's PostgreSQL notifications, on one connection per knex pool for every channel
 * (event store appends, bus publishes, projections' applied revisions). Notifications are wake-ups
 * only: every user re-reads by position, and also looks on a slow timer, so a lost connection or a
 * missed notification delays work but never loses any.
 *
 * The connection is taken from the pool (so it is configured like the others), held while anyone
 * listens, and returned to the pool when the last registration closes (a pool cannot be destroyed
 * while a connection is out). A lost connection is reopened after `reconnectDelayMs`.
 */
export class PostgresListener {
  private readonly registrations = new Set<Registration>();
  private connection: Client | undefined;
  /** Channels LISTENed on the current connection. */
  private readonly listening = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly knex: Knex,
    private readonly logger: Logger,
    private readonly reconnectDelayMs = 1_000,
  ) {}

  listen(channel: string, onNotification: (payload: string) => void, onConnected?: () => void): ChannelListener {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
    let settleReady: (listening: boolean) => void = () => undefined;
    const ready = new Promise<boolean>((resolve) => (settleReady = resolve));
    const registration: Registration = { channel, onNotification, onConnected, settleReady };
    this.registrations.add(registration);
    this.reconcile();
    return {
      ready,
      close: () => {
        if (!this.registrations.delete(registration)) return;
        registration.settleReady(false);
        this.reconcile();
      },
    };
  }

  /** Whether `channel` is listened to right now (users poll faster while it is not). */
  isListening(channel: string): boolean {
    return this.connection !== undefined && this.listening.has(channel);
  }

  /** Serialised, so that acquiring, LISTENing and releasing never interleave. */
  private reconcile(): void {
    this.chain = this.chain.then(() => this.converge()).catch((error: unknown) => this.logger.warn({ err: error }, 'postgres listener: unexpected error'));
  }

  private async converge(): Promise<void> {
    if (this.registrations.size === 0) {
      await this.release();
      return;
    }
    const fresh = this.connection === undefined;
    if (fresh && !(await this.connect())) return;
    const connection = this.connection;
    if (!connection) return;
    const wanted = new Set([...this.registrations].map((r) => r.channel));
    try {
      for (const channel of wanted) {
        if (this.listening.has(channel)) continue;
        await connection.query(`LISTEN ${channel}`);
        this.listening.add(channel);
      }
    } catch (error) {
      this.lost(error);
      return;
    }
    for (const registration of this.registrations) {
      if (this.listening.has(registration.channel)) registration.settleReady(true);
    }
    // Work committed while nobody listened sent notifications nobody heard.
    if (fresh) for (const registration of [...this.registrations]) registration.onConnected?.();
  }

  private async connect(): Promise<boolean> {
    let acquired: unknown;
    try {
      acquired = await this.knex.client.acquireConnection();
      if (!(acquired instanceof Client)) throw new Error('the knex pool did not hand out a pg Client');
      acquired.on('notification', this.onNotification);
      acquired.on('error', this.onConnectionLost);
      acquired.on('end', this.onConnectionLost);
      this.connection = acquired;
      this.listening.clear();
      return true;
    } catch (error) {
      this.logger.warn({ err: error }, 'postgres listener: no connection; users fall back to polling until it reconnects');
      if (acquired !== undefined) await this.knex.client.releaseConnection(acquired).catch(() => undefined);
      for (const registration of this.registrations) registration.settleReady(false);
      this.scheduleReconnect();
      return false;
    }
  }

  private readonly onNotification = (notification: Notification): void => {
    for (const registration of [...this.registrations]) {
      if (registration.channel === notification.channel) registration.onNotification(notification.payload ?? '');
    }
  };

  private readonly onConnectionLost = (error?: Error): void => this.lost(error);

  private lost(error: unknown): void {
    if (!this.connection) return;
    this.logger.warn({ err: error }, 'postgres listener: connection lost; reconnecting');
    this.chain = this.chain.then(() => this.release()).then(() => this.scheduleReconnect());
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.registrations.size === 0) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.reconcile();
    }, this.reconnectDelayMs);
    this.reconnectTimer.unref();
  }

  private async release(): Promise<void> {
    if (this.registrations.size === 0 && this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    }
    const connection = this.connection;
    this.connection = undefined;
    this.listening.clear();
    if (!connection) return;
    connection.off('notification', this.onNotification);
    connection.off('error', this.onConnectionLost);
    connection.off('end', this.onConnectionLost);
    try {
      // The connection goes back to the pool: it must not keep listening for its next user.
      await connection.query('UNLISTEN *');
    } catch {
      // A broken connection: knex marked it disposed and the pool discards it on release.
    }
    await this.knex.client.releaseConnection(connection);
  }
}

const listeners = new WeakMap<Knex, PostgresListener>();

/** The one listener of a knex pool, shared by everything in the process that uses that pool. */
export function postgresListenerOf(knex: Knex, logger: Logger): PostgresListener {
  let listener = listeners.get(knex);
  if (!listener) {
    listener = new PostgresListener(knex, logger);
    listeners.set(knex, listener);
  }
  return listener;
}
