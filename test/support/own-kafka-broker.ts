import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'deploy', 'kafka', 'kafka.sh');
/** The broker jars: KAFKA_HOME_DIR, or where `deploy/kafka/kafka.sh fetch` puts them. */
export const KAFKA_LIBS_DIR = process.env.KAFKA_HOME_DIR ?? join(ROOT, '.cache', 'kafka', 'libs');

export const kafkaJarsPresent = (): boolean => existsSync(KAFKA_LIBS_DIR);

/**
 * A single-node Kafka broker of a test's own, on free ports with its own state directory, so the
 * test can restart and SIGKILL it without touching the shared broker other tests use.
 */
export class OwnKafkaBroker {
  private constructor(
    private readonly stateDir: string,
    private readonly port: number,
    private readonly controllerPort: number,
  ) {}

  static async start(): Promise<OwnKafkaBroker> {
    const broker = new OwnKafkaBroker(mkdtempSync(join(tmpdir(), 'arena-kafka-')), await freePort(), await freePort());
    await broker.start();
    return broker;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts (again, on the same data) and resolves once the broker serves requests. */
  async start(): Promise<void> {
    await this.script('start');
  }

  /** A clean shutdown (SIGTERM, controlled shutdown). */
  async stop(): Promise<void> {
    await this.script('stop');
  }

  /** SIGKILL: no controlled shutdown, no flush. */
  async kill(): Promise<void> {
    await this.script('kill');
  }

  async destroy(): Promise<void> {
    await this.script('stop').catch(() => undefined);
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  private async script(command: string): Promise<void> {
    await run('bash', [SCRIPT, command], {
      env: {
        ...process.env,
        KAFKA_HOME_DIR: KAFKA_LIBS_DIR,
        KAFKA_STATE_DIR: this.stateDir,
        KAFKA_PORT: String(this.port),
        KAFKA_CONTROLLER_PORT: String(this.controllerPort),
        KAFKA_START_TIMEOUT: '300',
      },
      timeout: 400_000,
    });
  }
}
