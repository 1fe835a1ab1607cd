import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../../src/commands/command-context';
import { handleCommand } from '../../../src/commands/handle-command';
import { requestMatch } from '../../../src/commands/arena/match-commands';
import { agentDecider, agentStreamId } from '../../../src/domain/arena/agent';
import { matchSlotsStreamId } from '../../../src/domain/arena/match-slots';
import { RateLimitedError } from '../../../src/domain/shared/errors';
import { createKnex, type Knex } from '../../../src/infrastructure/database/knex';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { migrateEventStoreSchema } from '../../../src/infrastructure/eventstore/postgres-event-store-schema';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';

let url: string;
let db: Knex;
let store: PostgresEventStore;
const ctx = (): CommandContext => ({ store, now: () => new Date(), newId: randomUUID, metadata: {} });

beforeAll(async () => {
  url = await createTestDatabase('slots');
  db = createKnex(url);
  await migrateEventStoreSchema(db);
  store = new PostgresEventStore(db, createLogger({ level: 'silent' }));
});
afterAll(async () => {
  await store.close();
  await db.destroy();
  await dropTestDatabase(url);
});

/** An agent with a built, active submission, straight through its decider. */
async function readyAgent(ownerId: string): Promise<string> {
  const agentId = randomUUID();
  const submissionId = randomUUID();
  const now = new Date().toISOString();
  const stream = agentStreamId(agentId);
  await handleCommand(store, stream, agentDecider, { type: 'CreateAgent', agentId, ownerId, name: `bot-${agentId.slice(0, 6)}`, description: null, environmentId: 'pong', now });
  await handleCommand(store, stream, agentDecider, { type: 'AcceptSubmission', agentId, submissionId, userId: ownerId, dailyQuota: 5, now });
  await handleCommand(store, stream, agentDecider, { type: 'ActivateSubmission', agentId, submissionId, now });
  return agentId;
}

const deps = { quotaPolicy: { matchesPerDay: 50, cooldownSec: 60 }, environmentOptionsFor: () => ({ targetScore: 3 }) };

describe('match quota under concurrent requests', () => {
  it('lets exactly one of many simultaneous requests for the same agent through', async () => {
    const hot = await readyAgent('owner-a');
    const ownerOf = new Map<string, string>();
    const opponents = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const agentId = await readyAgent(`owner-${i}`);
        ownerOf.set(agentId, `owner-${i}`);
        return agentId;
      }),
    );
    const results = await Promise.allSettled(
      opponents.map((opponent) =>
        requestMatch(ctx(), deps, { agent1Id: hot, agent2Id: opponent, environmentId: 'pong', source: 'manual', requestedBy: 'owner-a' }),
      ),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r.reason).toBeInstanceOf(RateLimitedError);
    // The refused requests gave their opponents' slots back: each of those can play right away.
    const hotSlots = await store.readStream(matchSlotsStreamId(hot));
    expect(hotSlots.filter((e) => e.type === 'MatchSlotReserved')).toHaveLength(1);
    const holdsNoSlot = async (agentId: string) => {
      const types = (await store.readStream(matchSlotsStreamId(agentId))).map((e) => e.type);
      return types.filter((t) => t === 'MatchSlotReserved').length === types.filter((t) => t === 'MatchSlotReleased').length;
    };
    const released = [];
    for (const opponent of opponents) if (await holdsNoSlot(opponent)) released.push(opponent);
    expect(released).toHaveLength(9);
    const freed = await requestMatch(ctx(), deps, { agent1Id: released[0]!, agent2Id: released[1]!, environmentId: 'pong', source: 'manual', requestedBy: ownerOf.get(released[0]!)! });
    expect(freed.events.map((e) => e.type)).toEqual(['MatchRequested']);
  });
});
