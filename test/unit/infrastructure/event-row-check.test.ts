/**
 * The store's row check (toRecordedEvent, every event read): a hand-written fast path with the
 * acceptance of the zod row schema, which still parses, and throws for, anything else.
 */
import { ZodError } from 'zod';
import { toRecordedEvent } from '../../../src/infrastructure/eventstore/postgres-event-store-schema';

const createdAt = new Date('2026-01-01T00:00:00.000Z');
const row = {
  global_position: '9007199254740993',
  transaction_id: '42',
  event_id: '00000000-0000-4000-8000-000000000001',
  stream_id: 'user-1',
  revision: '3',
  type: 'UserLoggedIn',
  data: { userId: 'u' },
  metadata: { correlationId: 'c', schemaVersion: 1, extra: [1, { a: null }] },
  created_at: createdAt,
};

describe('the store row check', () => {
  it('converts a row as the schema did: 64-bit positions as bigint, data and metadata as read', () => {
    expect(toRecordedEvent(row)).toEqual({
      id: row.event_id,
      streamId: 'user-1',
      type: 'UserLoggedIn',
      data: { userId: 'u' },
      metadata: { correlationId: 'c', schemaVersion: 1, extra: [1, { a: null }] },
      revision: 3n,
      position: { commit: 42n, prepare: 9007199254740993n },
      createdAt,
    });
  });

  it.each<[string, unknown]>([
    ['not an object', null],
    ['a position that is not decimal text', { ...row, global_position: 12 }],
    ['a revision with a fraction', { ...row, revision: '1.5' }],
    ['a transaction id with a sign only', { ...row, transaction_id: '-' }],
    ['an empty event id', { ...row, event_id: '' }],
    ['an empty stream id', { ...row, stream_id: '' }],
    ['an empty type', { ...row, type: '' }],
    ['data that is an array', { ...row, data: [1] }],
    ['data that is null', { ...row, data: null }],
    ['metadata that is an array', { ...row, metadata: [] }],
    ['a correlation id that is not text', { ...row, metadata: { correlationId: 1 } }],
    ['a user id that is not text', { ...row, metadata: { userId: null } }],
    ['no metadata', { ...row, metadata: undefined }],
    ['an invalid date', { ...row, created_at: new Date(Number.NaN) }],
    ['a date as text', { ...row, created_at: '2026-01-01' }],
  ])('refuses %s with the schema error', (_name, bad) => {
    expect(() => toRecordedEvent(bad)).toThrow(ZodError);
  });
});
