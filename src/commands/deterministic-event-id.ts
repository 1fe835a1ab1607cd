import { createHash } from 'node:crypto';

/**
 * A UUID derived from a name (SHA-256, shaped as an RFC 4122 version 5 UUID): the same name gives
 * the same id. Used for events whose retry must be recognised as the same write: with an exact
 * expected revision both stores then treat the retried append as already done (docs/event-store.md).
 * The name must pin the content (e.g. batch id + fingerprint + part), never just the revision.
 */
export function deterministicEventId(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
