import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Consumer, MessageBus } from '../../../infrastructure/bus/message-bus';
import { streamCategory, type RecordedEvent } from '../../../infrastructure/eventstore/event-store';
import { decodeEnvelope, topicForCategory } from '../../../infrastructure/bus/event-envelope';
import { eventDispatcher, type EventHandlers } from '../../../infrastructure/eventstore/event-handlers';

type LiveEventListener = (event: RecordedEvent) => Promise<void>;

/**
 * Events as they happen, for WebSocket pushes. Each API process consumes with a group of its own
 * (starting at the newest message), so every process sees every event and can serve its own
 * sockets: pushes work with several API processes behind a load balancer.
 */
export class LiveEvents {
  private readonly listeners: { categories: Set<string>; listener: LiveEventListener; wantedStream?: (streamId: string) => boolean }[] = [];
  private consumer: Consumer | undefined;

  /**
   * Calls the handler of each event type as it happens, the event decoded and typed as projections
   * get it (`MatchRated: async (event) => event.data.agent1.change`). `wantedStream` looks at the
   * message's stream id (its key) before anything is parsed: a listener that pushes only to
   * subscribers of a stream says no before megabytes of telemetry are even read as JSON for nobody.
   * `wanted` looks at the stored event, undecoded.
   */
  on(
    categories: string[],
    handlers: EventHandlers<void>,
    options: { wantedStream?: (streamId: string) => boolean; wanted?: (event: RecordedEvent) => boolean } = {},
  ): void {
    const dispatch = eventDispatcher(handlers);
    const { wanted, wantedStream } = options;
    const listener: LiveEventListener = async (event) => {
      if ((wantedStream === undefined || wantedStream(event.streamId)) && (wanted === undefined || wanted(event))) await dispatch(event, undefined);
    };
    this.listeners.push({ categories: new Set(categories), listener, ...(wantedStream ? { wantedStream } : {}) });
  }

  /** Whether a listener may want the message (keyed by stream id, as the relay publishes): nobody, and it is not even parsed. */
  private anyoneWants(streamId: string): boolean {
    const category = streamCategory(streamId);
    return this.listeners.some(({ categories, wantedStream }) => categories.has(category) && (wantedStream === undefined || wantedStream(streamId)));
  }

  async start(bus: MessageBus, options: { topicPrefix: string; logger: Logger }): Promise<void> {
    const categories = [...new Set(this.listeners.flatMap((l) => [...l.categories]))];
    if (categories.length === 0) return;
    const topics = categories.map((c) => topicForCategory(options.topicPrefix, c));
    await bus.ensureTopics(topics);
    this.consumer = await bus.subscribe({
      groupId: `live.${randomUUID()}`,
      topics,
      fromBeginning: false,
      ephemeral: true,
      // A push that fails is not worth a retry storm: the client can re-read over HTTP.
      maxAttempts: 1,
      handler: async (message) => {
        if (!this.anyoneWants(message.key)) return;
        const event = decodeEnvelope(message.value);
        const category = streamCategory(event.streamId);
        for (const { categories, listener } of this.listeners) {
          if (!categories.has(category)) continue;
          try {
            await listener(event);
          } catch (error) {
            options.logger.warn({ err: error, eventType: event.type }, 'live event listener failed');
          }
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
