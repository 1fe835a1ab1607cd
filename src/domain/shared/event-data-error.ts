/**
 * An event whose data breaks the schema of its type: it was written by an older version with
 * looser rules, or by hand. Reading it again will fail the same way, so a consumer must not retry
 * it forever: projections quarantine it (src/projections/projection-quarantine.ts).
 */
export class EventDataError extends Error {
  constructor(
    readonly eventType: string,
    message: string,
  ) {
    super(`${eventType}: ${message}`);
    this.name = 'EventDataError';
  }
}
