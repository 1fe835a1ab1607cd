import { checkConfig } from '../../../src/runtime/ops/config-check';

const roles = ['relay', 'projections', 'analytics-projections', 'builds'];
const split = {
  DATABASE_URL: 'postgres://arena:secret@postgres:5432/arena',
  KAFKA_BROKERS: 'kafka:9092',
  CLICKHOUSE_URL: 'http://clickhouse:8123',
  ESDB_URL: 'esdb://kurrentdb:2113?tls=false',
  JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters',
};

describe('arena config check', () => {
  it('accepts the embedded default for `start`', () => {
    expect(checkConfig({}, undefined, roles)).toEqual({ ok: true, problems: [] });
    expect(checkConfig({}, 'start', roles)).toEqual({ ok: true, problems: [] });
  });

  it('names each invalid variable', () => {
    const result = checkConfig({ PORT: 'eighty', ANALYTICS_HTTP_PORT: 'nope', METRICS_TOKEN: 'short' }, undefined, roles);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^PORT: /), expect.stringMatching(/^ANALYTICS_HTTP_PORT: /), expect.stringMatching(/^METRICS_TOKEN: /)]),
    );
  });

  it('asks a split role for shared servers, and API processes for one JWT secret', () => {
    const embedded = checkConfig({}, 'serve', roles);
    expect(embedded.ok).toBe(false);
    expect(embedded.problems.map((p) => p.split(':')[0])).toEqual(['DATABASE_URL', 'CLICKHOUSE_URL', 'JWT_SECRET']);
    expect(checkConfig(split, 'serve', roles)).toEqual({ ok: true, problems: [] });
    expect(checkConfig({ ...split, JWT_SECRET: undefined }, 'relay', roles).ok).toBe(true);
  });

  it('refuses an unknown role and production without a JWT secret', () => {
    expect(checkConfig(split, 'janitor', roles).problems[0]).toMatch(/unknown role "janitor"/);
    expect(checkConfig({ NODE_ENV: 'production' }, undefined, roles).problems).toEqual(['JWT_SECRET: required in production']);
  });
});
