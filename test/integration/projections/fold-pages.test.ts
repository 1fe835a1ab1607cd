/**
 * A rebuild folds each page in memory per row (`fold` of a projection, row-fold.ts) and writes it
 * with a few multi-row statements. The rows must be the ones its live form gives (row-statements.ts:
 * each change its own statement), event after event, for histories the tidy replay fixture does not have: updates before the row exists, a
 * second creation of the same row, rows created by the "wrong" event first (a rating before the
 * agent), counters on a row created in the same page (table defaults) and on a row of an earlier
 * page, null and missing fields, jsonb values, and text with quotes, backslashes and `?`.
 */
import type { AnyDomainEvent } from '../../../src/domain/domain-events';
import { createKnex, type Knex } from '../../../src/infrastructure/database/knex';
import { toNewEvent } from '../../../src/infrastructure/eventstore/event-decoding';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { agentsProjection } from '../../../src/projections/postgres/arena/agents-projection';
import { matchesProjection } from '../../../src/projections/postgres/arena/matches-projection';
import { submissionsProjection } from '../../../src/projections/postgres/arena/submissions-projection';
import { usersProjection } from '../../../src/projections/postgres/identity/users-projection';
import { createProjectionRevisionsTable, type PostgresProjection } from '../../../src/projections/postgres/postgres-projection';
import { rebuildProjections } from '../../../src/projections/postgres/projection-rebuild';
import { migrateProjections } from '../../../src/projections/postgres/projection-runner';
import { telemetrySessionsProjection } from '../../../src/projections/postgres/racing/telemetry-sessions-projection';
import { trainingJobsProjection } from '../../../src/projections/postgres/training/training-jobs-projection';
import { createProjectionQuarantineTable } from '../../../src/projections/projection-quarantine';
import { everyEventReadable } from '../../support/every-event-readable';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';

const logger = createLogger({ name: 'fold-pages-test', level: process.env.TEST_LOG_LEVEL ?? 'error' });
const folded: PostgresProjection[] = [usersProjection, telemetrySessionsProjection, trainingJobsProjection, agentsProjection, matchesProjection, submissionsProjection];

let databaseUrl: string;
let db: Knex;
let store: PostgresEventStore;

beforeAll(async () => {
  databaseUrl = await createTestDatabase('foldpages');
  db = createKnex(databaseUrl);
  store = new PostgresEventStore(db, logger);
  await store.migrate();
  await migrateProjections(db, folded);
  await createProjectionQuarantineTable(db);
});

afterAll(async () => {
  await store?.close();
  await db?.destroy();
  if (databaseUrl) await dropTestDatabase(databaseUrl);
});

const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 0, minute)).toISOString();
const awkward = `O'Brien \\ "quoted" ? $1 ?? \\? émoji 🏁`;

const [user, session, earlierSession, job, agentA, agentB, agentC, match, submission] = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(id) as [string, string, string, string, string, string, string, string, string];

function lap(sessionId: string, lapNumber: number, lapTimeMs: number, valid: boolean): AnyDomainEvent {
  return {
    type: 'LapCompleted',
    data: {
      sessionId,
      ownerId: user,
      trackName: 'Spa',
      carModel: 'GT3',
      lapNumber,
      lapTimeMs,
      sectorTimesMs: [30_000, null, lapTimeMs - 30_000],
      valid,
      invalidReasons: valid ? [] : ['cut'],
      invalidDetails: valid ? [] : ['four wheels off'],
      isVerified: valid,
      estimated: false,
      startedAtMs: 1_772_323_200_000 + lapNumber * 100_000,
      endedAtMs: 1_772_323_200_000 + lapNumber * 100_000 + lapTimeMs,
      sampleCount: 4000,
      maxSpeedKmh: 300,
      meanSpeedKmh: 200,
      distanceM: 7004,
      fullThrottleFraction: 0.7,
      brakingFraction: 0.1,
      coastingFraction: 0.05,
    },
  };
}

function batch(sessionId: string, n: number, firstMs: number): AnyDomainEvent {
  const timestampMs = [firstMs, firstMs + 20, firstMs + 40];
  const column = (value: number) => timestampMs.map(() => value);
  return {
    type: 'TelemetryBatchRecorded',
    data: {
      sessionId,
      ownerId: user,
      trackName: 'Spa',
      carModel: 'GT3',
      batchId: `batch-${n}`,
      fingerprint: `fingerprint-${n}`,
      pointCount: timestampMs.length,
      firstTimestampMs: timestampMs[0]!,
      lastTimestampMs: timestampMs.at(-1)!,
      recordedAt: at(20 + n),
      columns: { timestampMs, speedKmh: column(150), throttleInput: column(1), brakeInput: column(0), steeringInput: column(0), gear: column(4), rpm: column(7000) },
    },
  };
}

const sessionCreated = (sessionId: string, minute: number): AnyDomainEvent => ({
  type: 'SessionCreated',
  data: { sessionId, ownerId: user, trackName: 'Spa', carModel: 'GT3', sessionName: awkward, weatherConditions: null, trackTemperatureC: 24.5, airTemperatureC: null, trackLengthM: 7004, createdAt: at(minute) },
});

const rating = (matchId: string, a: string, b: string, winner: 'agent_1' | 'agent_2' | 'draw', minute: number): AnyDomainEvent => ({
  type: 'MatchRated',
  data: {
    matchId,
    environmentId: 'pong',
    agent1: { agentId: a, before: 1200, after: winner === 'agent_1' ? 1212 : winner === 'draw' ? 1200 : 1188, change: winner === 'agent_1' ? 12 : winner === 'draw' ? 0 : -12 },
    agent2: { agentId: b, before: 1200, after: winner === 'agent_2' ? 1212 : winner === 'draw' ? 1200 : 1188, change: winner === 'agent_2' ? 12 : winner === 'draw' ? 0 : -12 },
    winner,
    kFactor: 24,
    ratedAt: at(minute),
  },
});

const agentCreated = (agentId: string, minute: number): AnyDomainEvent => ({
  type: 'AgentCreated',
  data: { agentId, ownerId: user, name: `agent ${awkward}`, description: null, environmentId: 'pong', createdAt: at(minute) },
});

/** Streams in append order; each a list of events. */
const history: [string, AnyDomainEvent[]][] = [
  // A session whose counters start in an earlier page than most of its laps.
  [`session-${earlierSession}`, [sessionCreated(earlierSession, 1), batch(earlierSession, 1, 1_772_323_200_000)]],
  [
    `user-${user}`,
    [
      // An update before the row exists changes nothing; a second registration is ignored.
      { type: 'UserLoggedIn', data: { userId: user, loggedInAt: at(2) } },
      { type: 'UserRegistered', data: { userId: user, username: awkward, email: 'a@x.io', passwordHash: 'scrypt$x', fullName: null, registeredAt: at(3) } },
      { type: 'UserProfileUpdated', data: { userId: user, fullName: awkward, updatedAt: at(4) } },
      { type: 'UserRegistered', data: { userId: user, username: 'second', email: 'b@x.io', passwordHash: 'scrypt$x', fullName: 'Second', registeredAt: at(5) } },
      { type: 'UserLoggedIn', data: { userId: user, loggedInAt: at(6) } },
      { type: 'UserProfileUpdated', data: { userId: user, email: 'c@x.io', fullName: null, updatedAt: at(7) } },
    ],
  ],
  [
    `session-${session}`,
    [
      // Laps before the session exists count nowhere; then counters on a row created in this page.
      lap(session, 1, 95_000, true),
      sessionCreated(session, 10),
      batch(session, 2, 1_772_323_300_000),
      lap(session, 2, 92_000, false),
      lap(session, 3, 91_000, true),
      batch(session, 3, 1_772_323_400_000),
      lap(session, 4, 93_500, true),
      { type: 'SessionCompleted', data: { sessionId: session, ownerId: user, trackName: 'Spa', carModel: 'GT3', completedAt: at(30) } },
      sessionCreated(session, 31),
    ],
  ],
  [`session-${earlierSession}`, [lap(earlierSession, 1, 99_000, true), lap(earlierSession, 2, 97_000, true), batch(earlierSession, 4, 1_772_323_500_000)]],
  [
    `trainingjob-${job}`,
    [
      {
        type: 'TrainingJobCreated',
        data: { jobId: job, ownerId: user, algorithm: 'dqn', environment: 'pong', totalTimesteps: 50_000, hyperparameters: { learning_rate: 0.0005, note: awkward, layers: [64, 64] }, environmentOptions: { frame_skip: 4 }, description: awkward, runner: 'built_in', seed: 7, createdAt: at(40) },
      },
      { type: 'TrainingStarted', data: { jobId: job, workerId: 'w1', attempt: 1, startedAt: at(41) } },
      { type: 'TrainingProgressed', data: { jobId: job, workerId: 'w1', attempt: 1, timestep: 10_000, totalTimesteps: 50_000, episodeReward: -3.5, episodeLength: 210, fps: 880.25, loss: null, progressPercentage: 20, estimatedTimeRemainingSec: 40, reportedAt: at(42) } },
      { type: 'TrainingHeartbeat', data: { jobId: job, workerId: 'w1', attempt: 1, reportedAt: at(43) } },
      { type: 'TrainingRequeued', data: { jobId: job, attempt: 2, previousWorkerId: 'w1', reason: awkward, requeuedAt: at(44) } },
      { type: 'TrainingStarted', data: { jobId: job, workerId: 'w2', attempt: 2, startedAt: at(45) } },
      { type: 'TrainingCancelRequested', data: { jobId: job, requestedBy: user, requestedAt: at(46) } },
      { type: 'TrainingCancelled', data: { jobId: job, attempt: 2, timestep: 1_000, reason: 'cancelled by its owner', cancelledAt: at(47) } },
    ],
  ],
  // A rating before agent A exists creates its row; AgentCreated then fills it in.
  ['ladder-pong', [rating(id(100), agentA, agentB, 'agent_1', 50)]],
  [`agent-${agentA}`, [agentCreated(agentA, 51), { type: 'AgentUpdated', data: { agentId: agentA, description: awkward, updatedAt: at(52) } }]],
  // Agent C created, then rated twice in the same page (counters from the table's defaults), then deleted.
  [`agent-${agentC}`, [agentCreated(agentC, 53), { type: 'ActiveSubmissionChanged', data: { agentId: agentC, submissionId: submission, previousSubmissionId: null, version: 'v1', changedAt: at(54) } }]],
  ['ladder-pong', [rating(id(101), agentC, agentA, 'agent_2', 55), rating(id(102), agentC, agentB, 'draw', 56), rating(id(103), agentB, agentC, 'agent_2', 54)]],
  [`agent-${agentC}`, [{ type: 'AgentDeleted', data: { agentId: agentC, ownerId: user, name: 'c', deletedAt: at(57) } }, { type: 'AgentUpdated', data: { agentId: agentC, name: 'renamed', updatedAt: at(58) } }]],
  [
    `match-${match}`,
    [
      { type: 'MatchStarted', data: { matchId: match, startedAt: at(59) } },
      {
        type: 'MatchRequested',
        data: {
          matchId: match,
          environmentId: 'pong',
          environmentOptions: {},
          seed: 11,
          agent1: { agentId: agentA, submissionId: submission, ownerId: user },
          agent2: { agentId: agentB, submissionId: submission, ownerId: user },
          source: 'manual',
          requestedBy: user,
          requestedAt: at(60),
        },
      },
      { type: 'MatchStarted', data: { matchId: match, startedAt: at(61) } },
      {
        type: 'MatchCompleted',
        data: {
          matchId: match,
          environmentId: 'pong',
          agent1Id: agentA,
          agent2Id: agentB,
          winner: 'agent_2',
          winnerId: agentB,
          score1: 3,
          score2: 21,
          totalSteps: 5000,
          executionTimeSec: 4.25,
          forfeits: [{ agent: 'agent_1', reason: 'timeout', detail: awkward, step: 120 }],
          replayJsonKey: 'replays/m.json',
          replayHtmlKey: 'replays/m.html',
          completedAt: at(62),
        },
      },
      { type: 'MatchFailed', data: { matchId: match, reason: awkward, failedAt: at(63) } },
    ],
  ],
  [
    `submission-${submission}`,
    [
      {
        type: 'SubmissionReceived',
        data: { submissionId: submission, agentId: agentA, ownerId: user, environmentId: 'pong', sequence: 1, version: 'v1', contentHash: 'ab'.repeat(32), artifactKey: 'submissions/s.zip', sizeBytes: 2048, receivedAt: at(64) },
      },
      { type: 'BuildStarted', data: { submissionId: submission, agentId: agentA, ownerId: user, attempt: 1, startedAt: at(65) } },
      { type: 'BuildFailed', data: { submissionId: submission, agentId: agentA, ownerId: user, attempt: 1, reason: 'pip failed', log: awkward, completedAt: at(66) } },
      { type: 'RebuildRequested', data: { submissionId: submission, agentId: agentA, ownerId: user, requestedBy: user, requestedAt: at(67) } },
      { type: 'BuildStarted', data: { submissionId: submission, agentId: agentA, ownerId: user, attempt: 2, startedAt: at(68) } },
      {
        type: 'BuildSucceeded',
        data: { submissionId: submission, agentId: agentA, ownerId: user, attempt: 2, environmentRef: 'venv:builds/s', agentDir: '/tmp/a', pythonExecutable: '/usr/bin/python3', log: 'ok?', completedAt: at(69) },
      },
    ],
  ],
];

async function appendHistory(): Promise<void> {
  const revisions = new Map<string, bigint>();
  for (const [streamId, events] of history) {
    if (events.length === 0) continue;
    const expected = revisions.get(streamId);
    const result = await store.append(streamId, events.map((event) => toNewEvent(event)), { expectedRevision: expected ?? 'no_stream' });
    revisions.set(streamId, result.nextExpectedRevision);
  }
}

/** The reference: each event applied with the projection's `on` handler, one by one, in store order, into its own schema. */
async function appliedOneByOne(projection: PostgresProjection, schema: string): Promise<void> {
  await db.raw(`CREATE SCHEMA ${schema}`);
  await db.transaction(async (trx) => {
    await trx.raw(`SET LOCAL search_path TO ${schema}`);
    await createProjectionRevisionsTable(trx);
    await projection.createTables(trx);
    for (const event of await store.readAll({ maxCount: 100_000 })) {
      if (projection.categories.includes(event.streamId.split('-')[0]!)) await projection.apply(event, trx);
    }
  });
}

async function rowsOf(schema: string, table: string): Promise<string[]> {
  const result = await db.raw<{ rows: { row: string }[] }>(`SELECT t::text AS row FROM ${schema}."${table}" t ORDER BY 1`);
  return result.rows.map((row) => row.row);
}

describe('a rebuild folds pages in memory, with the rows of the handlers applied one by one', () => {
  beforeAll(async () => {
    await appendHistory();
    // The reference reads the history once: all of it, not what other suites' transactions let through yet.
    await everyEventReadable(db, store);
    for (const [i, projection] of folded.entries()) await appliedOneByOne(projection, `fold_reference_${i}`);
  });

  it('every folded projection has a page form for each event type it handles, and folds this history', async () => {
    const events = await store.readAll({ maxCount: 100_000 });
    for (const projection of folded) {
      const own = events.filter((event) => projection.categories.includes(event.streamId.split('-')[0]!) && projection.handles.includes(event.type));
      expect({ projection: projection.name, folds: projection.foldPage?.(own) !== undefined }).toEqual({ projection: projection.name, folds: true });
    }
  });

  it.each([
    ['one page', 10_000, undefined],
    ['pages of 5 events', 5, undefined],
    ['pages of 2 events', 2, undefined],
    // Fold windows of many pages, written before the next begins: rows that several windows change.
    ['pages of 5 events, fold windows of 7 events', 5, 7],
    ['pages of 2 events, fold windows of 1 event', 2, 1],
  ])('rebuilds to the same rows (%s)', async (_name, batchSize, foldWindowEvents) => {
    await rebuildProjections(db, store, folded, { logger, batchSize, ...(foldWindowEvents === undefined ? {} : { foldWindowEvents }) });
    for (const [i, projection] of folded.entries()) {
      for (const table of projection.tables) {
        expect({ table, rows: await rowsOf('public', table) }).toEqual({ table, rows: await rowsOf(`fold_reference_${i}`, table) });
      }
    }
    // What the history says, checked once directly: the awkward text made it through unchanged.
    expect(await db('users').where({ id: user }).first()).toMatchObject({ username: awkward, email: 'c@x.io', full_name: null });
    expect(await db('telemetry_sessions').where({ id: session }).first()).toMatchObject({ session_name: awkward, total_laps: 3, valid_laps: 2, best_lap_time_ms: 91_000, batches: 2, is_complete: true });
    expect(await db('agents').where({ id: agentC }).first()).toMatchObject({ name: 'renamed', total_matches: 3, wins: 1, losses: 1, draws: 1 });
  });

  it('a page whose folded statement PostgreSQL refuses is applied again event by event, the one bad event quarantined', async () => {
    const before = await rowsOf('public', 'arena_submissions');
    // Decodes (a number), but does not fit the integer column: the page's one query fails in PostgreSQL.
    const tooLarge = id(200);
    await store.append(
      `submission-${tooLarge}`,
      [
        toNewEvent({
          type: 'SubmissionReceived',
          data: { submissionId: tooLarge, agentId: agentA, ownerId: user, environmentId: 'pong', sequence: 2, version: 'v2', contentHash: 'cd'.repeat(32), artifactKey: 'submissions/t.zip', sizeBytes: 1e12, receivedAt: at(70) },
        }),
      ],
      { expectedRevision: 'no_stream' },
    );
    // The store holds a write back from readAll while an older transaction runs anywhere on the
    // server, and test files share it: rebuild once the event is readable (else the rebuild may not see it).
    while (!(await store.readAll({ maxCount: 100_000 })).some((event) => event.streamId === `submission-${tooLarge}`)) await new Promise((done) => setTimeout(done, 50));
    const results = await rebuildProjections(db, store, [submissionsProjection], { logger, batchSize: 10_000 });
    expect(results[0]!.quarantined.map((entry) => `${entry.streamId}@${entry.revision}`)).toEqual([`submission-${tooLarge}@0`]);
    expect(await rowsOf('public', 'arena_submissions')).toEqual(before);
  });
});
