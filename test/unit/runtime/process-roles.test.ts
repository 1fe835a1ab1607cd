import { loadConfig } from '../../../src/infrastructure/config/config';
import { missingSharedJwtSecret, opensAnalytics } from '../../../src/runtime/process-roles';

const shared = { DATABASE_URL: 'postgres://db.example/arena', KAFKA_BROKERS: 'kafka.example:9092' };

describe('what each arena process opens', () => {
  it('opens the embedded analytics engine only in the process that runs the analytics projections (or start)', () => {
    const config = loadConfig(shared);
    for (const role of ['relay', 'projections', 'builds', 'matches', 'elo', 'matchmaker', 'training']) {
      expect(opensAnalytics({ command: 'worker', role }, config)).toBe(false);
    }
    expect(opensAnalytics({ command: 'migrate' }, config)).toBe(false);
    expect(opensAnalytics({ command: 'worker', role: 'analytics-projections' }, config)).toBe(true);
    expect(opensAnalytics({ command: 'start' }, config)).toBe(true);
    expect(opensAnalytics({ command: 'replay', analytics: false }, config)).toBe(false);
    // An API process of a split deployment would read an empty chDB of its own: it does not serve analytics...
    expect(opensAnalytics({ command: 'serve' }, config)).toBe(false);
    // ...unless analytics come from a server, or it is the only process (embedded everything).
    expect(opensAnalytics({ command: 'serve' }, loadConfig({ ...shared, CLICKHOUSE_URL: 'http://ch.example:8123' }))).toBe(true);
    expect(opensAnalytics({ command: 'serve' }, loadConfig({}))).toBe(true);
  });

  it('refuses an API process of a shared deployment without JWT_SECRET, saying why', () => {
    for (const env of [shared, { DATABASE_URL: shared.DATABASE_URL }, { KAFKA_BROKERS: shared.KAFKA_BROKERS }]) {
      const reason = missingSharedJwtSecret({ command: 'serve' }, loadConfig(env));
      expect(reason).toContain('JWT_SECRET must be set');
      expect(reason).toContain('401');
    }
    expect(missingSharedJwtSecret({ command: 'serve' }, loadConfig({ ...shared, JWT_SECRET: 'x'.repeat(32) }))).toBeUndefined();
    // Alone with embedded engines, the generated secret in DATA_DIR is enough; workers sign no tokens.
    expect(missingSharedJwtSecret({ command: 'start' }, loadConfig({}))).toBeUndefined();
    expect(missingSharedJwtSecret({ command: 'worker', role: 'projections' }, loadConfig(shared))).toBeUndefined();
  });
});
