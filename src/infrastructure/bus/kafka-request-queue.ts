/**
 * kafkajs 2.2.4 keeps every broker connection in a 1 ms timer loop for as long as it is open
 * (kafkajs issues #1556, #1604, #1704; the fix, PR #1667, is unreleased). After its first answer a
 * connection's request queue calls `scheduleCheckPendingRequests`, which arms a timer even when no
 * request waits: with no throttle in force the delay is negative (node runs it after 1 ms), the
 * timer calls `checkPendingRequests`, which arms the next one, and so on. Each of this process's
 * consumers holds two or three connections (group coordinator, partition leader, ...): ~13 groups
 * wake the event loop every millisecond, idle or not, on a machine where node shares 2 cores
 * with PostgreSQL and the broker.
 *
 * `checkPendingRequests` only sends requests that wait in `pending` (held back by the in-flight
 * limit or the broker's throttle); a request that could go at once is sent by `push` itself, and a
 * fulfilled or timed-out request calls `checkPendingRequests` directly. So a timer is needed only
 * while something waits: then as kafkajs meant it, at the end of the throttle or after its 10 ms
 * recheck interval. `useRequestQueueWithoutIdleTimer` replaces the method on kafkajs' RequestQueue
 * class with that rule, once per process, and refuses (throws at start) if kafkajs' internals are
 * not the ones this was written against. Test: test/integration/bus/kafka-request-queue.test.ts.
 */

/** kafkajs' own recheck interval while requests wait (CHECK_PENDING_REQUESTS_INTERVAL in requestQueue/index.js). */
const RECHECK_WHILE_PENDING_MS = 10;

/** The fields of kafkajs' RequestQueue that the rule reads and writes. */
interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

interface RequestQueuePrototype {
  scheduleCheckPendingRequests(this: RequestQueueState): void;
  checkPendingRequests(this: RequestQueueState): void;
}

const KAFKAJS_VERSION = '2.2.4';
let installed = false;

/** Arms the recheck only while requests wait; never a timer for an empty queue. */
function scheduleCheckWhilePending(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : RECHECK_WHILE_PENDING_MS,
  );
}

function requestQueuePrototype(): RequestQueuePrototype {
  // kafkajs' internal module: no public export and no type declarations.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (require('kafkajs/package.json') as { version?: unknown }).version;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype?: Partial<RequestQueuePrototype> } | undefined;
  const prototype = RequestQueue?.prototype;
  if (
    version !== KAFKAJS_VERSION ||
    typeof prototype?.scheduleCheckPendingRequests !== 'function' ||
    typeof prototype.checkPendingRequests !== 'function'
  ) {
    throw new Error(
      `kafka-request-queue.ts was written against kafkajs ${KAFKAJS_VERSION}'s RequestQueue (found ${String(version)}): ` +
        'check whether the idle 1 ms timer loop is fixed in this version and update or remove this module',
    );
  }
  return prototype as RequestQueuePrototype;
}

/** Installs the rule on kafkajs' RequestQueue (once per process; later calls do nothing). */
export function useRequestQueueWithoutIdleTimer(): void {
  if (installed) return;
  requestQueuePrototype().scheduleCheckPendingRequests = scheduleCheckWhilePending;
  installed = true;
}
