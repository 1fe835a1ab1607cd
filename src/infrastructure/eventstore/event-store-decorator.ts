import type { AppendOptions, AppendResult, EventStore, NewEvent } from './event-store';

/**
 * An EventStore wrapped around another: everything but `append` goes to the store underneath as is,
 * and the optional capabilities are present exactly when the store underneath has them. A decorator
 * (metrics, the API's recording of its own appends) says what it adds to `append`.
 */
export abstract class EventStoreDecorator implements EventStore {
  readonly watchAppends?: EventStore['watchAppends'];
  readonly hasEventsAfter?: EventStore['hasEventsAfter'];

  constructor(protected readonly inner: EventStore) {
    if (inner.watchAppends) this.watchAppends = (wake) => inner.watchAppends?.(wake) ?? (() => undefined);
    if (inner.hasEventsAfter) this.hasEventsAfter = (after) => inner.hasEventsAfter?.(after) ?? Promise.resolve(false);
  }

  abstract append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult>;

  readStream: EventStore['readStream'] = (streamId, options) => this.inner.readStream(streamId, options);
  readAll: EventStore['readAll'] = (options) => this.inner.readAll(options);
  subscribeToAll: EventStore['subscribeToAll'] = (options) => this.inner.subscribeToAll(options);
  ping: EventStore['ping'] = () => this.inner.ping();
  identity: EventStore['identity'] = () => this.inner.identity();
  close: EventStore['close'] = () => this.inner.close();
}
