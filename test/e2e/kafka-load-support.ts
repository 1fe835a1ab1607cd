import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { http } from '../support/test-system';

/** A write the API acknowledged (2xx): it must become visible in the read models, exactly once. */
export interface AcknowledgedWrite {
  userId: string;
  agentId?: string;
}

/**
 * Writes users (and one agent each) against the API processes in turn until stopped, and keeps
 * what was acknowledged. Failures during outages are expected and simply not counted.
 */
export class WriteLoad {
  readonly acknowledged: AcknowledgedWrite[] = [];
  failures = 0;
  private stopped = false;
  private running?: Promise<void>;

  constructor(private readonly apiUrls: string[], private readonly concurrency = 2) {}

  start(): void {
    this.running = Promise.all(Array.from({ length: this.concurrency }, (_, lane) => this.lane(lane))).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async lane(lane: number): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const url = this.apiUrls[(lane + i) % this.apiUrls.length]!;
      const name = `load_${lane}_${i}_${randomUUID().slice(0, 6)}`;
      try {
        const reg = await http(url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
        if (reg.status !== 201) {
          this.failures += 1;
          continue;
        }
        const write: AcknowledgedWrite = { userId: (reg.body.user as { id: string }).id };
        this.acknowledged.push(write);
        const agent = await http(url, 'POST', '/api/v1/agents', { token: String(reg.body.token), body: { name: `agent ${name}`, environment_id: 'pong' } });
        if (agent.status === 201) write.agentId = String(agent.body.id);
        else this.failures += 1;
      } catch {
        this.failures += 1;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

/** Each consumer group of the deployment (by TOPIC_PREFIX) with its live member count. */
export async function consumerGroupMembers(brokers: string, topicPrefix: string): Promise<Record<string, number>> {
  const admin = new Kafka({ clientId: 'test-admin', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(topicPrefix));
    const described = await admin.describeGroups(ours);
    return Object.fromEntries(described.groups.map((g) => [g.groupId, g.members.length]));
  } finally {
    await admin.disconnect();
  }
}

/** Thrown by a probe to stop `eventually` at once (e.g. the process under test has exited). */
export class StopWaiting extends Error {}

/** Polls `probe` until it returns true; resolves how long that took, rejects after `timeoutMs`. */
export async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<number> {
  const startedAt = Date.now();
  for (;;) {
    try {
      if (await probe()) return Date.now() - startedAt;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
    }
    if (Date.now() - startedAt > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function readyzStatus(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
}
