import type { DomainEvent } from '../domain/shared/decider';
import type { EventStore } from '../infrastructure/eventstore/event-store';
import { readAfter, type Evolver, type LoadedState, type StateSource } from './state-source';

/**
 * Keeps the folded state of recently used streams in memory (bounded, least recently used out) and
 * reads only the events after the remembered revision: one read per load, however long the stream.
 * Also right when other processes append to the same streams: what they appended is read. A stream
 * not in memory is loaded from `below` (a snapshot source, or the whole stream).
 */
export class CachedStateSource<State, Event extends DomainEvent> implements StateSource<State> {
  private readonly cache = new Map<string, LoadedState<State>>();

  constructor(
    private readonly store: EventStore,
    private readonly decider: Evolver<State, Event>,
    private readonly below: StateSource<State>,
    private readonly options: { maxEntries: number },
  ) {}

  async load(streamId: string, options: { afterConflict: boolean }): Promise<LoadedState<State>> {
    const cached = this.cache.get(streamId);
    if (cached === undefined) {
      const loaded = await this.below.load(streamId, options);
      this.remember(streamId, loaded);
      return loaded;
    }
    const { loaded, events } = await readAfter(this.store, streamId, this.decider, cached);
    if (events.length > 0) this.remember(streamId, loaded);
    return loaded;
  }

  async appended(streamId: string, before: LoadedState<State>, after: LoadedState<State>): Promise<void> {
    this.remember(streamId, after);
    await this.below.appended(streamId, before, after);
  }

  remembered(streamId: string): LoadedState<State> | undefined {
    return this.cache.get(streamId);
  }

  /** Forgets every remembered state (tests; a process that wants its memory back). */
  clear(): void {
    this.cache.clear();
  }

  private remember(streamId: string, loaded: LoadedState<State>): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, loaded);
    while (this.cache.size > this.options.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
  }
}
