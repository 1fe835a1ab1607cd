import type { Knex } from 'knex';
import { createKnex } from '../../../src/infrastructure/database/knex';
import type { RecordedEvent } from '../../../src/infrastructure/eventstore/event-store';
import { agentsProjection } from '../../../src/projections/postgres/arena/agents-projection';
import { arenaProjections } from '../../../src/projections/postgres/arena/arena-projections';
import { leaderboard } from '../../../src/projections/postgres/arena/leaderboard-queries';
import { usersProjection } from '../../../src/projections/postgres/identity/users-projection';
import { applyEvents, migrateProjections } from '../../../src/projections/postgres/projection-runner';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
const ids = { a: '11111111-1111-4111-8111-111111111111', b: '22222222-2222-4222-8222-222222222222', c: '33333333-3333-4333-8333-333333333333' };
const owner = '99999999-9999-4999-8999-999999999999';
const match = (n: number) => `0000000${n}-0000-4000-8000-000000000000`;

let position = 0n;
const revisions = new Map<string, bigint>();
function recorded(streamId: string, type: string, data: Record<string, unknown>): RecordedEvent {
  const revision = revisions.get(streamId) ?? 0n;
  revisions.set(streamId, revision + 1n);
  position += 1n;
  return { id: `e${position}`, streamId, type, data: data as RecordedEvent['data'], metadata: {}, revision, position: { commit: position, prepare: position }, createdAt: new Date(at(0)) };
}

const agentEvents = Object.entries(ids).map(([key, id], index) =>
  recorded(`agent-${id}`, 'AgentCreated', { agentId: id, ownerId: owner, name: `Agent ${key.toUpperCase()}`, description: null, environmentId: 'pong', createdAt: at(index) }),
);
const side = (agentId: string, before: number, after: number) => ({ agentId, before, after, change: after - before });
const ladderEvents = [
  recorded('ladder-pong', 'MatchRated', { matchId: match(1), environmentId: 'pong', agent1: side(ids.a, 1200, 1216), agent2: side(ids.b, 1200, 1184), winner: 'agent_1', kFactor: 32, ratedAt: at(10) }),
  recorded('ladder-pong', 'MatchRated', { matchId: match(2), environmentId: 'pong', agent1: side(ids.c, 1200, 1200), agent2: side(ids.b, 1184, 1184), winner: 'draw', kFactor: 32, ratedAt: at(11) }),
  recorded('ladder-pong', 'MatchRated', { matchId: match(3), environmentId: 'pong', agent1: side(ids.a, 1216, 1200), agent2: side(ids.c, 1200, 1216), winner: 'agent_2', kFactor: 32, ratedAt: at(12) }),
];

const databases: string[] = [];
async function freshReadModel(): Promise<Knex> {
  const url = await createTestDatabase('arena_projection');
  databases.push(url);
  const db = createKnex(url);
  await migrateProjections(db, [usersProjection, ...arenaProjections]);
  return db;
}

async function applyAll(db: Knex, events: RecordedEvent[]): Promise<void> {
  for (const event of events) {
    for (const projection of arenaProjections.filter((p) => p.categories.includes(event.streamId.split('-')[0]!))) {
      await db.transaction((trx) => applyEvents(projection, [event], trx));
    }
  }
}

afterAll(async () => {
  for (const url of databases) await dropTestDatabase(url);
});

describe('arena projections', () => {
  it('the agents read model is the same whichever of its topics (agent, ladder) arrives first, and redelivery changes nothing', async () => {
    const inOrder = await freshReadModel();
    const ladderFirst = await freshReadModel();
    try {
      await applyAll(inOrder, [...agentEvents, ...ladderEvents]);
      await applyAll(ladderFirst, [...ladderEvents, ...agentEvents]);
      await applyAll(ladderFirst, [...ladderEvents, ...agentEvents]); // redelivered
      const rows = (db: Knex) => db('agents').select('*').orderBy('id');
      expect(await rows(ladderFirst)).toEqual(await rows(inOrder));
      const byId = Object.fromEntries((await rows(inOrder)).map((row: Record<string, unknown>) => [row.id, row]));
      expect(byId[ids.a]).toMatchObject({ elo_rating: 1200, total_matches: 2, wins: 1, losses: 1, draws: 0, name: 'Agent A' });
      expect(byId[ids.b]).toMatchObject({ elo_rating: 1184, total_matches: 2, wins: 0, losses: 1, draws: 1 });
      expect(byId[ids.c]).toMatchObject({ elo_rating: 1216, total_matches: 2, wins: 1, losses: 0, draws: 1 });

      // Ranks come from rating, then wins, then age: only from rows, so any replay ranks alike.
      const board = await leaderboard(inOrder, { limit: 10, offset: 0 });
      expect(board.entries.map((e) => [e.rank, e.agent_id, e.elo_rating, e.win_rate])).toEqual([
        [1, ids.c, 1216, 50],
        [2, ids.a, 1200, 50],
        [3, ids.b, 1184, 0],
      ]);
      expect(board.updatedAt).toBe(at(12));
      expect(await leaderboard(ladderFirst, { limit: 10, offset: 0 })).toEqual(board);
      expect((await leaderboard(inOrder, { limit: 1, offset: 1 })).entries.map((e) => e.rank)).toEqual([2]);
      expect(await inOrder('arena_match_ratings').count<{ count: string }[]>('* as count')).toEqual([{ count: '3' }]);
      expect(agentsProjection.categories).toEqual(['agent', 'ladder']);
    } finally {
      await inOrder.destroy();
      await ladderFirst.destroy();
    }
  });
});
