import type { Knex } from 'knex';
import { Client, type Notification } from 'pg';
import type { Logger } from '../logging/logger';
import { APPENDED_CHANNEL } from './postgres-event-store-schema';

/**
 * Holds one connection that LISTENs on the append channel and wakes subscriptions when an append
 * commits. It is only a latency shortcut: a wake-up carries no data and subscriptions re-poll by
 * position, and they also poll on a timer, so a lost connection or a missed notification delays
 * delivery but never loses or reorders an event.
 *
 * The connection is taken from the knex pool (so it is configured exactly like the others) and
 * kept until close(); it is opened lazily by the first subscription.
 */
export class AppendNotifier {
  private readonly wakers = new Set<() => void>();
  private connection: Client | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly knex: Knex,
    private readonly logger: Logger,
    private readonly reconnectDelayMs: number,
  ) {}

  /** Registers a wake-up callback; returns the function that unregisters it. */
  add(wake: () => void): () => void {
    this.wakers.add(wake);
    this.listen();
    return () => {
      this.wakers.delete(wake);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.connecting;
    await this.releaseConnection();
  }

  private listen(): void {
    if (this.closed || this.connection || this.connecting) return;
    this.connecting = this.openConnection().finally(() => {
      this.connecting = undefined;
    });
  }

  private async openConnection(): Promise<void> {
    let acquired: unknown;
    try {
      acquired = await this.knex.client.acquireConnection();
      if (!(acquired instanceof Client)) throw new Error('the knex pool did not hand out a pg Client');
      acquired.on('notification', this.onNotification);
      acquired.on('error', this.onConnectionLost);
      acquired.on('end', this.onConnectionLost);
      await acquired.query(`LISTEN ${APPENDED_CHANNEL}`);
      this.connection = acquired;
    } catch (error) {
      this.logger.warn({ err: error }, 'event store: LISTEN failed; subscriptions rely on polling until it reconnects');
      if (acquired !== undefined) await this.knex.client.releaseConnection(acquired);
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await this.releaseConnection();
      return;
    }
    // Appends that committed while we were connecting sent no notification we could hear.
    this.wakeAll();
  }

  private readonly onNotification = (notification: Notification): void => {
    if (notification.channel === APPENDED_CHANNEL) this.wakeAll();
  };

  private readonly onConnectionLost = (error?: Error): void => {
    if (!this.connection) return;
    this.logger.warn({ err: error }, 'event store: LISTEN connection lost; reconnecting');
    void this.releaseConnection().then(() => this.scheduleReconnect());
  };

  private wakeAll(): void {
    for (const wake of this.wakers) wake();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.listen();
    }, this.reconnectDelayMs);
  }

  private async releaseConnection(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
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
