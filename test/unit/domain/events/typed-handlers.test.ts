import { EventDataError } from '../../../../src/domain/shared/event-data-error';
import type { JsonObject, RecordedEvent } from '../../../../src/infrastructure/eventstore/event-store';
import { toNewEvent } from '../../../../src/infrastructure/eventstore/event-decoding';
import { eventDispatcher, handledTypes, type EventHandlers } from '../../../../src/infrastructure/eventstore/event-handlers';

const recorded = (type: string, data: JsonObject, metadata: JsonObject = {}): RecordedEvent => ({
  id: 'e1',
  streamId: 'match-m1',
  type,
  data,
  metadata,
  revision: 0n,
  position: { commit: 1n, prepare: 1n },
  createdAt: new Date('2026-05-01T10:00:00Z'),
});

const completed = {
  matchId: 'm1',
  environmentId: 'pong',
  agent1Id: 'a1',
  agent2Id: 'a2',
  winner: 'agent_1',
  winnerId: 'a1',
  score1: 3,
  score2: 1,
  totalSteps: 400,
  executionTimeSec: 2.5,
  forfeits: [],
  replayJsonKey: 'r.json',
  replayHtmlKey: 'r.html',
  completedAt: '2026-05-01T10:00:00Z',
};

describe('typed event handlers', () => {
  it('derive the handled types from the handlers, and hand each its event decoded', async () => {
    const seen: string[] = [];
    const handlers: EventHandlers<string> = {
      async MatchCompleted(event, context) {
        seen.push(`${context}:${event.data.winnerId}:${event.data.score1}-${event.data.score2}`);
      },
      async MatchFailed(event) {
        seen.push(`failed:${event.data.reason}`);
      },
    };
    expect(handledTypes(handlers)).toEqual(['MatchCompleted', 'MatchFailed']);
    const dispatch = eventDispatcher(handlers);
    await dispatch(recorded('MatchCompleted', completed), 'ctx');
    await dispatch(recorded('MatchStarted', { matchId: 'm1', startedAt: 'x' }), 'ctx'); // not handled: ignored unread
    await dispatch(recorded('MatchFailed', { matchId: 'm1', reason: 'no sandbox', failedAt: 'x' }), 'ctx');
    expect(seen).toEqual(['ctx:a1:3-1', 'failed:no sandbox']);
  });

  it('throw EventDataError for data that does not fit (the projections quarantine it)', async () => {
    const dispatch = eventDispatcher<void>({ async MatchCompleted() {} });
    await expect(dispatch(recorded('MatchCompleted', { ...completed, winner: 'both' }), undefined)).rejects.toThrow(EventDataError);
    await expect(dispatch(recorded('MatchCompleted', { ...completed, winner: 'both' }), undefined)).rejects.toThrow(/MatchCompleted: winner/);
  });

  it('write the current schema version into the metadata of new events', () => {
    expect(toNewEvent({ type: 'LapCompleted', data: {} }, { correlationId: 'c' }).metadata).toEqual({ correlationId: 'c', schemaVersion: 2 });
    expect(toNewEvent({ type: 'MatchCompleted', data: {} }).metadata).toEqual({ schemaVersion: 1 });
  });

  it('refuse, at compile time, a renamed field or an unknown event type (npm run typecheck)', () => {
    const handlers: EventHandlers<void> = {
      async MatchCompleted(event) {
        // @ts-expect-error `winnerAgentId` is not a field of MatchCompleted: a rename fails to compile
        void event.data.winnerAgentId;
      },
      // @ts-expect-error `MatchFinished` is not an event type of the registry
      async MatchFinished() {},
    };
    expect(Object.keys(handlers)).toHaveLength(2);
  });
});
