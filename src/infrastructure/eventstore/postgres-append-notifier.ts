import type { Knex } from 'knex';
import { postgresListenerOf, type ChannelListener } from '../database/postgres-listener';
import type { Logger } from '../logging/logger';
import { APPENDED_CHANNEL } from './postgres-event-store-schema';

/**
 * Wakes readers of $all (the relay, subscriptions) when an append commits: every append NOTIFYs
 * `eventstore_appended` in its transaction, and this LISTENs on the process's shared notification
 * connection (PostgresListener). It is only a wake-up: it carries no data, readers re-read by
 * position and keep a slow safety poll, so a lost connection or a missed notification delays
 * delivery but never loses or reorders an event. A (re)connection wakes everyone, because appends
 * that committed meanwhile sent notifications nobody heard.
 */
export class AppendNotifier {
  private readonly registrations = new Set<ChannelListener>();

  constructor(
    private readonly knex: Knex,
    private readonly logger: Logger,
  ) {}

  /** Registers a wake-up callback; returns the function that unregisters it. */
  add(wake: () => void): () => void {
    const registration = postgresListenerOf(this.knex, this.logger).listen(APPENDED_CHANNEL, wake, wake);
    this.registrations.add(registration);
    return () => {
      this.registrations.delete(registration);
      registration.close();
    };
  }

  async close(): Promise<void> {
    for (const registration of this.registrations) registration.close();
    this.registrations.clear();
  }
}
