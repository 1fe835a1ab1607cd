import { createHash } from 'node:crypto';
import type { TelemetryBatchColumns } from './telemetry-batch';
import { packColumnsReporting } from './telemetry-batch-packing';

/**
 * A batch's fingerprint tells a retry (same batch id, same points) from a reused id (other points).
 *
 * Two forms are stored in TelemetryBatchRecorded.fingerprint:
 * - `packed-sha256:<hex>`, what uploads get now: sha256 of the columns' packed text
 *   (telemetry-batch-packing.ts), the same text the event stores, so hashing it costs a pass over
 *   ~90 KB instead of the columns' JSON (~230 KB, built only for the hash);
 * - `<hex>` (no prefix), what batches recorded before got: sha256 of `JSON.stringify(columns)`.
 *
 * Both are exact for the points (packing is lossless and deterministic; JSON prints each number
 * exactly), so a retry of a batch recorded under either form is recognised: {@link isSameBatch}
 * compares a recorded legacy fingerprint with the legacy hash of the retried columns.
 */
export const PACKED_FINGERPRINT_PREFIX = 'packed-sha256:';

export function batchFingerprint(columns: TelemetryBatchColumns): string {
  return PACKED_FINGERPRINT_PREFIX + createHash('sha256').update(packColumnsReporting(columns).packed).digest('hex');
}

/** The fingerprint batches were recorded with before the packed form. */
export function legacyBatchFingerprint(columns: TelemetryBatchColumns): string {
  return createHash('sha256').update(JSON.stringify(columns)).digest('hex');
}

/**
 * Whether a recorded batch's fingerprint is that of these columns (`fingerprint`: theirs in the
 * current form). A legacy fingerprint is compared with the columns' legacy hash, computed only then.
 */
export function isSameBatch(recordedFingerprint: string, fingerprint: string, columns: TelemetryBatchColumns): boolean {
  if (recordedFingerprint === fingerprint) return true;
  if (recordedFingerprint.startsWith(PACKED_FINGERPRINT_PREFIX)) return false;
  return recordedFingerprint === legacyBatchFingerprint(columns);
}
