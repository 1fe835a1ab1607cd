import { randomUUID } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { CachedStateSource } from '../../../src/commands/cached-state-source';
import { handleCommand } from '../../../src/commands/handle-command';
import { structuredCodec } from '../../../src/commands/snapshot-codec';
import { SnapshotStateSource } from '../../../src/commands/snapshot-state-source';
import { WholeStreamSource, type LoadedState, type StateSource } from '../../../src/commands/state-source';
import { ladderDecider, type Ladder, type LadderCommand } from '../../../src/domain/arena/ladder';
import { userDecider, userStreamId } from '../../../src/domain/identity/user';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../../../src/infrastructure/eventstore/event-store';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { PostgresSnapshotStore } from '../../../src/infrastructure/snapshots/postgres-snapshot-store';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';

/**
 * The one command handler and its state sources on the real PostgreSQL event store and snapshot
 * store: every source gives the state a fold of the whole stream gives, a snapshot is only ever an
 * optimisation, and a concurrent writer makes the command decide again on fresh state.
 */

/** The store, counting the events reads return (what a source had to read). */
class CountingStore implements EventStore {
  eventsRead = 0;
  reads = 0;
  constructor(private readonly inner: EventStore) {}
  append: EventStore['append'] = (...args) => this.inner.append(...args);
  readAll: EventStore['readAll'] = (...args) => this.inner.readAll(...args);
  subscribeToAll: EventStore['subscribeToAll'] = (...args) => this.inner.subscribeToAll(...args);
  ping: EventStore['ping'] = () => this.inner.ping();
  identity: EventStore['identity'] = () => this.inner.identity();
  close: EventStore['close'] = () => Promise.resolve();
  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const events = await this.inner.readStream(streamId, options);
    this.reads += 1;
    this.eventsRead += events.length;
    return events;
  }
}

const codecV1 = structuredCodec<Ladder>('Ladder', 1);
const rate = (environmentId: string, matchId: string, agent1Id: string, agent2Id: string): LadderCommand => ({
  type: 'RateMatch',
  matchId,
  environmentId,
  agent1Id,
  agent2Id,
  winner: 'agent_1',
  kFactor: 32,
  completedAt: '2026-01-01T00:00:00.000Z',
});

describe('the command handler and its state sources', () => {
  let databaseUrl: string;
  let knex: Knex;
  let store: PostgresEventStore;
  let snapshots: PostgresSnapshotStore;
  const policy = { every: 4n, probe: 2 };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('commands');
    knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 8 } });
    store = new PostgresEventStore(knex, createLogger({ level: 'silent' }));
    await store.migrate();
    snapshots = new PostgresSnapshotStore(knex);
    await snapshots.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await knex?.destroy();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  const snapshotSource = (on: EventStore = store, codec = codecV1, onSnapshotError?: (error: unknown) => void) =>
    new SnapshotStateSource(on, ladderDecider, snapshots, codec, { ...policy, onSnapshotError });
  const whole = (streamId: string) => new WholeStreamSource(store, ladderDecider).load(streamId);

  /** A ladder of `matches` rated matches between four agents, written through snapshots. */
  async function ladderOf(matches: number): Promise<string> {
    const environmentId = `env${randomUUID().slice(0, 8)}`;
    const source = snapshotSource();
    const agents = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < matches; i += 1) {
      await handleCommand(store, `ladder-${environmentId}`, ladderDecider, rate(environmentId, `m${i}`, agents[i % 4]!, agents[(i + 1) % 4]!), { source });
    }
    return `ladder-${environmentId}`;
  }

  it('every source gives the fold of the whole stream', async () => {
    const streamId = await ladderOf(25);
    const expected = await whole(streamId);
    expect(expected.revision).toBe(24n);
    expect(await snapshots.load(streamId)).toMatchObject({ revision: 23n, schema: 'Ladder', version: 1 });
    for (const source of [snapshotSource(), new CachedStateSource(store, ladderDecider, snapshotSource(), { maxEntries: 10 })]) {
      expect(await source.load(streamId, { afterConflict: false })).toEqual(expected);
    }
  });

  it('a snapshot saves reading the stream: a fresh load reads the probe, the snapshot event and what follows', async () => {
    const streamId = await ladderOf(26);
    const counting = new CountingStore(store);
    expect(await snapshotSource(counting).load(streamId)).toEqual(await whole(streamId));
    // probe (2) + the snapshot's own event at revision 23 + revisions 24 and 25: 5 of 26.
    expect(counting.eventsRead).toBe(5);
  });

  it('a snapshot of another version is ignored: the stream is read instead', async () => {
    const streamId = await ladderOf(13);
    const counting = new CountingStore(store);
    const loaded = await new SnapshotStateSource(counting, ladderDecider, snapshots, structuredCodec<Ladder>('Ladder', 2), policy).load(streamId);
    expect(loaded).toEqual(await whole(streamId));
    expect(counting.eventsRead).toBe(13);
  });

  it('a snapshot whose event is not at its revision any more is not believed (another store, a restore)', async () => {
    const streamId = await ladderOf(9);
    const stored = await snapshots.load(streamId);
    expect(stored).not.toBeNull();
    // A lying state at a later revision, anchored on an event id this stream never had.
    await snapshots.save({ ...stored!, revision: 8n, eventId: randomUUID(), state: codecV1.encode(ladderDecider.initialState()) });
    expect(await snapshotSource().load(streamId)).toEqual(await whole(streamId));
  });

  it('a snapshot that cannot be decoded is ignored and reported', async () => {
    const streamId = await ladderOf(9);
    const stored = (await snapshots.load(streamId))!;
    await knex('aggregate_snapshots').where({ stream_id: streamId }).update({ state: JSON.stringify({ ratings: { $map: 'not pairs' } }) });
    const errors: unknown[] = [];
    expect(await snapshotSource(store, codecV1, (error) => errors.push(error)).load(streamId)).toEqual(await whole(streamId));
    expect(errors).toHaveLength(1);
    expect(stored.revision).toBe(7n);
  });

  it('with every snapshot deleted, every source gives the same states', async () => {
    const streams = [await ladderOf(10), await ladderOf(17)];
    const before = await Promise.all(streams.map((streamId) => snapshotSource().load(streamId)));
    expect(await snapshots.deleteAll()).toBeGreaterThan(0);
    const after = await Promise.all(streams.map((streamId) => snapshotSource().load(streamId)));
    expect(after).toEqual(before);
    expect(after).toEqual(await Promise.all(streams.map(whole)));
  });

  it('a concurrent writer makes the command decide again on the fresh state', async () => {
    const streamId = await ladderOf(6);
    const environmentId = streamId.slice('ladder-'.length);
    const inner = new CachedStateSource(store, ladderDecider, snapshotSource(), { maxEntries: 10 });
    const loads: boolean[] = [];
    // Between this command's load and its append, another writer rates a match of agent a.
    const racing: StateSource<Ladder> = {
      load: async (id, options) => {
        loads.push(options.afterConflict);
        const loaded: LoadedState<Ladder> = await inner.load(id, options);
        if (loads.length === 1) await handleCommand(store, streamId, ladderDecider, rate(environmentId, 'other', 'a', 'c'));
        return loaded;
      },
      appended: (id, before, after) => inner.appended(id, before, after),
    };
    const outcome = await handleCommand(store, streamId, ladderDecider, rate(environmentId, 'mine', 'a', 'b'), { source: racing });
    expect(loads).toEqual([false, true]);
    const afterOther = (await whole(streamId)).state;
    const rated = outcome.events[0]!;
    const otherRated = (await store.readStream(streamId)).find((event) => event.data.matchId === 'other')!;
    // Decided on the state that includes the other writer's match: a's rating before is its rating after that match.
    expect(rated.data.agent1.before).toBe((otherRated.data.agent1 as { after: number }).after);
    expect(outcome.revision).toBe(7n);
    expect(outcome.state).toEqual(afterOther);
  });

  it('two processes with their own memory of a stream: each decides on what the other appended', async () => {
    const streamId = await ladderOf(5);
    const environmentId = streamId.slice('ladder-'.length);
    const [first, second] = [0, 1].map(() => new CachedStateSource(store, ladderDecider, snapshotSource(), { maxEntries: 10 }));
    await first!.load(streamId, { afterConflict: false });
    const byOther = await handleCommand(store, streamId, ladderDecider, rate(environmentId, 'by-second', 'a', 'b'), { source: second });
    const byFirst = await handleCommand(store, streamId, ladderDecider, rate(environmentId, 'by-first', 'a', 'd'), { source: first });
    expect(byFirst.events[0]!.data.agent1.before).toBe(byOther.events[0]!.data.agent1.after);
    expect(byFirst.state).toEqual((await whole(streamId)).state);
  });

  it('a remembered state decides without reading; the expected revision of the append checks it', async () => {
    const streamId = await ladderOf(3);
    const environmentId = streamId.slice('ladder-'.length);
    const counting = new CountingStore(store);
    const source = new CachedStateSource(counting, ladderDecider, new WholeStreamSource(counting, ladderDecider), { maxEntries: 10 });
    await source.load(streamId, { afterConflict: false });
    const readsBefore = counting.reads;
    const outcome = await handleCommand(counting, streamId, ladderDecider, rate(environmentId, 'remembered', 'a', 'b'), { source });
    expect(counting.reads).toBe(readsBefore);
    expect(outcome.revision).toBe(3n);
    expect(outcome.state).toEqual((await whole(streamId)).state);
  });

  it('a refusal decided on a remembered state is decided again on the read state (another process appended meanwhile)', async () => {
    const userId = randomUUID();
    const streamId = userStreamId(userId);
    const source = new CachedStateSource(store, userDecider, new WholeStreamSource(store, userDecider), { maxEntries: 10 });
    await source.load(streamId, { afterConflict: false }); // remembers: no such user
    // Another process registers the user.
    await handleCommand(store, streamId, userDecider, {
      type: 'RegisterUser',
      userId,
      username: `u${userId.slice(0, 8)}`,
      email: `${userId.slice(0, 8)}@example.com`,
      passwordHash: 'hash',
      fullName: null,
      now: '2026-01-01T00:00:00.000Z',
    });
    const outcome = await handleCommand(store, streamId, userDecider, { type: 'UpdateProfile', userId, fullName: 'Known Now', now: '2026-01-02T00:00:00.000Z' }, { source });
    expect(outcome.revision).toBe(1n);
    expect(outcome.state).toMatchObject({ status: 'registered', fullName: 'Known Now' });
  });

  it('a new stream (an id just generated) is decided on the empty state without reading', async () => {
    const userId = randomUUID();
    const streamId = userStreamId(userId);
    const counting = new CountingStore(store);
    const register = { type: 'RegisterUser', userId, username: `n${userId.slice(0, 8)}`, email: `n${userId.slice(0, 8)}@example.com`, passwordHash: 'hash', fullName: null, now: '2026-01-01T00:00:00.000Z' } as const;
    const outcome = await handleCommand(counting, streamId, userDecider, register, { newStream: true });
    expect(counting.reads).toBe(0);
    expect(outcome.revision).toBe(0n);
    expect(outcome.state).toEqual((await new WholeStreamSource(store, userDecider).load(streamId)).state);
  });

  it('a "new" stream that exists after all conflicts, and the command is decided again on the read state', async () => {
    const userId = randomUUID();
    const streamId = userStreamId(userId);
    const register = (username: string) =>
      ({ type: 'RegisterUser', userId, username, email: `${username}@example.com`, passwordHash: 'hash', fullName: null, now: '2026-01-01T00:00:00.000Z' }) as const;
    await handleCommand(store, streamId, userDecider, register('first'));
    const counting = new CountingStore(store);
    await expect(handleCommand(counting, streamId, userDecider, register('second'), { newStream: true })).rejects.toThrow(/already exists/);
    expect(counting.reads).toBe(1);
    const stored = await store.readStream(streamId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.data).toMatchObject({ username: 'first' });
  });
});
