import type { Consumer, ConsumerOptions, MessageBus, OutgoingMessage } from '../bus/message-bus';
import { busHandlerDuration } from './arena-metrics';

/** What one consumer group did in this process: the status and the heartbeat report it. */
export interface GroupActivity {
  group: string;
  handled: number;
  failed: number;
  lastHandledAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

/**
 * The MessageBus port with metrics: per consumer group, handler durations and failures, and the
 * last error (a projection stuck on one message shows up here while the bus retries it).
 */
export class InstrumentedMessageBus implements MessageBus {
  private readonly activity = new Map<string, GroupActivity>();

  constructor(private readonly inner: MessageBus) {}

  ensureTopics: MessageBus['ensureTopics'] = (topics) => this.inner.ensureTopics(topics);
  publish = (topic: string, messages: OutgoingMessage[]): Promise<void> => this.inner.publish(topic, messages);
  publishAll: MessageBus['publishAll'] = (batches) => this.inner.publishAll(batches);
  ping: MessageBus['ping'] = () => this.inner.ping();
  consumerStatuses: MessageBus['consumerStatuses'] = () => this.inner.consumerStatuses();
  groupLag: MessageBus['groupLag'] = (groupId, topics) => this.inner.groupLag(groupId, topics);
  close: MessageBus['close'] = () => this.inner.close();

  /** The adapter underneath. */
  get adapter(): MessageBus {
    return this.inner;
  }

  /** Groups this process consumes, with what they did so far (ephemeral WebSocket groups excluded). */
  groupActivity(): GroupActivity[] {
    return [...this.activity.values()].map((a) => ({ ...a }));
  }

  subscribe(options: ConsumerOptions): Promise<Consumer> {
    const group = options.groupId;
    const activity: GroupActivity = this.activity.get(group) ?? { group, handled: 0, failed: 0, lastHandledAt: null, lastError: null, lastErrorAt: null };
    if (!options.ephemeral) this.activity.set(group, activity);
    const observed = async (count: number, handle: () => Promise<void>): Promise<void> => {
      const stop = busHandlerDuration.startTimer({ group });
      try {
        await handle();
        stop({ outcome: 'ok' });
        activity.handled += count;
        activity.lastHandledAt = new Date().toISOString();
      } catch (error) {
        stop({ outcome: 'error' });
        activity.failed += 1;
        activity.lastError = (error instanceof Error ? error.message : String(error)).slice(0, 500);
        activity.lastErrorAt = new Date().toISOString();
        throw error;
      }
    };
    const { handler, batchHandler } = options;
    return this.inner.subscribe({
      ...options,
      handler: handler && ((message) => observed(1, () => handler(message))),
      batchHandler: batchHandler && ((messages) => observed(messages.length, () => batchHandler(messages))),
    });
  }
}
