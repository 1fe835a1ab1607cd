import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/infrastructure/config/config';
import type { ApiServices as Services } from '../../src/api/shared/api-services';
import { createLogger } from '../../src/infrastructure/logging/logger';
import { startApiServer } from '../../src/runtime/api-server';
import { migrateReadModels, startProjections, startRelay, type RunningRole } from '../../src/runtime/background-roles';
import { openServices } from '../../src/runtime/open-services';
import { createTestDatabase } from './postgres';

export interface TestSystem {
  url: string;
  services: Services;
  config: Config;
  /** Stops roles and closes services (the database is kept, so a new system can reopen it). */
  stop(): Promise<void>;
}

export interface TestSystemOptions {
  /** Reuse a database (e.g. to restart on the same data); default: a fresh one. */
  databaseUrl?: string;
  dataDir?: string;
  env?: Record<string, string>;
  /** Open the analytics engine (false: this process answers analytics 503, "not served here"). Default true. */
  analytics?: boolean;
  /** Which roles to run; default all. */
  roles?: { relay?: boolean; projections?: boolean; api?: boolean };
}

/**
 * The whole system in this process, on real engines: a fresh database on the test PostgreSQL,
 * chDB in a temp dir, the in-process bus (or Kafka when TEST_BUS=kafka and KAFKA_BROKERS is set).
 */
export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase('system'));
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'arena-system-'));
  const useKafka = process.env.TEST_BUS === 'kafka' && !!process.env.KAFKA_BROKERS;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    RATE_LIMIT_AUTH_PER_MIN: '1000',
    RATE_LIMIT_DEFAULT_PER_MIN: '10000',
    RATE_LIMIT_SUBMISSIONS_PER_MIN: '1000',
    RATE_LIMIT_MATCHES_PER_MIN: '1000',
    RATE_LIMIT_LAPXCEL_USER_PER_HOUR: '100000',
    RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR: '100000',
    TOPIC_PREFIX: `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.`,
    ...(useKafka ? { KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '' } : {}),
    ...options.env,
  });
  const logger = createLogger({ level: config.LOG_LEVEL });
  const opened = await openServices(config, logger, { analytics: options.analytics ?? true });
  const services = opened.services;
  await migrateReadModels(services);
  const roles: RunningRole[] = [];
  const wanted = { relay: true, projections: true, api: true, ...options.roles };
  if (wanted.relay) roles.push(startRelay(services));
  if (wanted.projections) roles.push(await startProjections(services));
  let url = '';
  if (wanted.api) {
    const api = await startApiServer(services, { host: '127.0.0.1', port: 0 });
    roles.push(api);
    url = api.url;
  }
  return {
    url,
    services,
    config,
    async stop() {
      for (const role of roles.reverse()) await role.stop();
      await opened.close();
    },
  };
}

/** JSON request helper: returns status, parsed body and headers. */
export async function http(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  if (text) {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { raw: text };
    }
  }
  return { status: response.status, body, headers: response.headers };
}
