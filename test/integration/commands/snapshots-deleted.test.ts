import { randomUUID } from 'node:crypto';
import { rateCompletedMatch } from '../../../src/commands/arena/match-commands';
import type { CommandStates } from '../../../src/commands/command-states';
import type { CommandContext } from '../../../src/commands/command-context';
import { WholeStreamSource } from '../../../src/commands/state-source';
import { agentDecider, agentStreamId } from '../../../src/domain/arena/agent';
import { ladderDecider, ladderStreamId } from '../../../src/domain/arena/ladder';
import { sessionStreamId, telemetrySessionDecider } from '../../../src/domain/racing/telemetry-session';
import { PostgresSnapshotStore } from '../../../src/infrastructure/snapshots/postgres-snapshot-store';
import { generateSession } from '../../fixtures/telemetry/trace-generator';
import { createSession, registerDriver, uploadInBatches, type Driver } from '../../support/racing';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';

/**
 * A snapshot is an optimisation, never the truth: the same system answers the same with its
 * snapshots as after every snapshot is deleted (a restart in between, so no process remembers
 * anything). Long streams here: two telemetry sessions (one with positions, one whose laps are
 * estimated, so the estimator's buffered batches are in the snapshot), an agent and a ladder.
 */
const env = { SNAPSHOT_EVERY_EVENTS: '3' };

interface Fixture {
  databaseUrl: string;
  dataDir: string;
  driver: Driver;
  stranger: Driver;
  sessions: { withPositions: string; estimated: string };
  lastPoint: Record<string, unknown>;
  /** Each session's first upload (batch id batch-0). */
  firstBatches: Record<keyof Fixture['sessions'], unknown[]>;
  agentId: string;
  environmentId: string;
}

let fixture: Fixture;
let system: TestSystem | undefined;

const commandContext = (states: CommandStates, running: TestSystem): CommandContext => ({
  store: running.services.store,
  now: () => new Date('2026-02-01T00:00:00Z'),
  newId: randomUUID,
  metadata: {},
  states,
});

async function start(): Promise<TestSystem> {
  system = await startTestSystem({ databaseUrl: fixture?.databaseUrl, dataDir: fixture?.dataDir, env, analytics: false });
  return system;
}

/** Everything a client or a command could learn from the long streams, without changing them. */
async function answers(running: TestSystem): Promise<unknown> {
  const { url } = running;
  const { driver, stranger, sessions, agentId } = fixture;
  const out: Record<string, unknown> = {};
  for (const [name, sessionId] of Object.entries(sessions)) {
    out[`${name}: GET`] = await http(url, 'GET', `/api/v1/telemetry/sessions/${sessionId}`, { token: driver.token }).then(({ status, body }) => ({ status, body }));
    // A retried upload: answered from the session's state (the batch it remembers), nothing appended.
    out[`${name}: retried batch`] = await http(url, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, {
      token: driver.token,
      body: { data_points: fixture.firstBatches[name as keyof Fixture['sessions']], batch_id: 'batch-0' },
    }).then(({ status, body }) => ({ status, body }));
    // A point not after the last one recorded: refused from the session's state (the last timestamp).
    out[`${name}: stale point`] = await http(url, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, {
      token: driver.token,
      body: { data_points: [fixture.lastPoint], batch_id: `late-${randomUUID()}` },
    }).then(({ status, body }) => ({ status, body: { ...body, request_id: undefined } }));
  }
  out['agent: stranger renames'] = await http(url, 'PUT', `/api/v1/agents/${agentId}`, { token: stranger.token, body: { name: 'Mine now' } }).then(
    ({ status, body }) => ({ status, body: { ...body, request_id: undefined } }),
  );
  out['agent: GET'] = await http(url, 'GET', `/api/v1/agents/${agentId}`).then(({ status, body }) => ({ status, body }));
  const states = running.services.commandStates;
  // A match rated already: the ladder's answer is its state, nothing appended.
  const again = await rateCompletedMatch(commandContext(states, running), {
    matchId: 'm0', environmentId: fixture.environmentId, agent1Id: 'a', agent2Id: 'b', winner: 'agent_1', kFactor: 32, completedAt: '2026-01-01T00:00:00Z',
  });
  out['ladder: rated again'] = { events: again.events, state: again.state, revision: again.revision };
  // The states the handler decides on, against a fold of the whole stream.
  const store = running.services.store;
  const streams = [
    [states.telemetrySessions, telemetrySessionDecider, sessionStreamId(sessions.withPositions)],
    [states.telemetrySessions, telemetrySessionDecider, sessionStreamId(sessions.estimated)],
    [states.agents, agentDecider, agentStreamId(agentId)],
    [states.ladders, ladderDecider, ladderStreamId(fixture.environmentId)],
  ] as const;
  for (const [source, decider, streamId] of streams) {
    const loaded = await source.load(streamId, { afterConflict: false });
    const folded = await new WholeStreamSource(store, decider as typeof telemetrySessionDecider).load(streamId);
    expect(loaded).toEqual(folded);
    out[`state of ${streamId.split('-')[0]} ${streamId === sessionStreamId(sessions.estimated) ? '(estimated)' : ''}`] = loaded;
  }
  return out;
}

beforeAll(async () => {
  const first = await startTestSystem({ env, analytics: false });
  system = first;
  const url = first.url;
  const driver = await registerDriver(url, 'snap');
  const stranger = await registerDriver(url, 'other');
  const generated = generateSession({ seed: 7, laps: 2, hz: 10, start: 'rolling' });
  const withPositions = await createSession(url, driver, { track_length_m: generated.trackLengthM });
  await uploadInBatches(url, driver, withPositions, generated.points, 150);
  // No position and no lap counter: laps are estimated, and the estimator buffers batches in the state.
  const bare = generated.points.map((point) => {
    const { normalized_car_position: _p, completed_laps: _l, ...rest } = point as Record<string, unknown>;
    return rest;
  });
  const estimated = await createSession(url, driver, { track_length_m: generated.trackLengthM });
  await uploadInBatches(url, driver, estimated, bare, 150);

  const agent = await http(url, 'POST', '/api/v1/agents', { token: driver.token, body: { name: 'Snapshot', environment_id: 'pong', description: 'v0' } });
  expect(agent.status).toBe(201);
  const agentId = String(agent.body.id);
  for (let i = 1; i <= 7; i += 1) {
    expect((await http(url, 'PUT', `/api/v1/agents/${agentId}`, { token: driver.token, body: { description: `v${i}` } })).status).toBe(200);
  }
  const environmentId = `snap${randomUUID().slice(0, 8)}`;
  const agents = ['a', 'b', 'c', 'd'];
  for (let i = 0; i < 10; i += 1) {
    await rateCompletedMatch(commandContext(first.services.commandStates, first), {
      matchId: `m${i}`, environmentId, agent1Id: agents[i % 4]!, agent2Id: agents[(i + 1) % 4]!, winner: i % 3 === 0 ? 'draw' : 'agent_1', kFactor: 32, completedAt: '2026-01-01T00:00:00Z',
    });
  }
  fixture = {
    databaseUrl: first.config.DATABASE_URL!,
    dataDir: first.config.dataDir,
    driver,
    stranger,
    sessions: { withPositions, estimated },
    lastPoint: generated.points[generated.points.length - 1] as Record<string, unknown>,
    firstBatches: { withPositions: generated.points.slice(0, 150), estimated: bare.slice(0, 150) },
    agentId,
    environmentId,
  };
  await first.stop();
  system = undefined;
}, 300_000);

afterEach(async () => {
  await system?.stop();
  system = undefined;
});

it('answers the same with every snapshot deleted', async () => {
  let running = await start();
  const snapshotted = await running.services.db('aggregate_snapshots').select('stream_id');
  const streamIds = snapshotted.map((row: { stream_id: string }) => row.stream_id);
  for (const streamId of [
    sessionStreamId(fixture.sessions.withPositions),
    sessionStreamId(fixture.sessions.estimated),
    agentStreamId(fixture.agentId),
    ladderStreamId(fixture.environmentId),
  ]) {
    expect(streamIds).toContain(streamId);
  }
  const withSnapshots = await answers(running);
  expect(await new PostgresSnapshotStore(running.services.db).deleteAll()).toBeGreaterThanOrEqual(4);
  await running.stop();

  running = await start();
  expect(await running.services.db('aggregate_snapshots').count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
  const withoutSnapshots = await answers(running);
  expect(withoutSnapshots).toEqual(withSnapshots);
  // Sanity: the answers are the real ones, not errors both times.
  expect(withSnapshots).toMatchObject({
    'withPositions: retried batch': { status: 201, body: { replayed: true } },
    'estimated: retried batch': { status: 201, body: { replayed: true } },
    'withPositions: stale point': { status: 422 },
    'estimated: stale point': { status: 422 },
    'agent: stranger renames': { status: 403 },
    'agent: GET': { status: 200, body: { description: 'v7' } },
    'ladder: rated again': { events: [], revision: 9n },
  });
}, 300_000);
