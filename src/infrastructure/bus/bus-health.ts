import type { MessageBus } from './message-bus';

/** How long one ping result stands for the bus's state. */
const PING_VALID_MS = 1_000;
/** A ping slower than this counts as "down": a waiting request should not wait on a dead broker. */
const PING_TIMEOUT_MS = 1_500;

/**
 * "Is the bus known to be down?", cheap enough to ask in a polling loop: a background ping at most
 * once a second, plus the states of this process's consumers. Never blocks the caller; until the
 * first ping has answered, the bus is not known to be down.
 */
export class BusHealth {
  private lastPingAt = 0;
  private pingFailed = false;
  private pinging = false;

  constructor(private readonly bus: MessageBus) {}

  knownDown(): boolean {
    this.refresh();
    if (this.pingFailed) return true;
    return this.bus.consumerStatuses().some((status) => status.state === 'recovering' || status.state === 'failed');
  }

  private refresh(): void {
    if (this.pinging || Date.now() - this.lastPingAt < PING_VALID_MS) return;
    this.pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('ping timed out')), PING_TIMEOUT_MS)));
    Promise.race([this.bus.ping(), timedOut])
      .then(
        () => (this.pingFailed = false),
        () => (this.pingFailed = true),
      )
      .finally(() => {
        clearTimeout(timer);
        this.lastPingAt = Date.now();
        this.pinging = false;
      });
  }
}

const healthByBus = new WeakMap<MessageBus, BusHealth>();

/** One BusHealth per bus, so every request of the process shares its pings. */
export function busHealthOf(bus: MessageBus): BusHealth {
  let health = healthByBus.get(bus);
  if (!health) {
    health = new BusHealth(bus);
    healthByBus.set(bus, health);
  }
  return health;
}
