import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { checkConfig } from '../../../src/runtime/ops/config-check';
import { workerRoles } from '../../../src/runtime/background-roles';

/** deploy/ checked offline: the files parse, every role is there, and each role's environment passes `arena config check`. */
const DEPLOY = join(__dirname, '..', '..', '..', 'deploy');
const roles = Object.keys(workerRoles);
/** What an operator provides (compose: shell variables; Kubernetes: the arena-secrets Secret). */
const provided: Record<string, string> = {
  JWT_SECRET: 'a-jwt-secret-of-at-least-thirty-two-chars',
  DATABASE_URL: 'postgres://arena:secret@postgres:5432/arena',
  CLICKHOUSE_URL: 'http://arena:secret@clickhouse:8123',
};

/** Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}: provided values first, then defaults. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind?: string, rest?: string) => {
    if (provided[name] !== undefined) return provided[name]!;
    if (kind === '-') return rest ?? '';
    throw new Error(`${name} is required and not provided (${rest ?? ''})`);
  });
}

const roleOf = (args: string[]): string | undefined => (args[0] === 'worker' ? args[1] : args[0] === 'serve' ? 'serve' : undefined);

describe('deploy/compose/compose.yaml', () => {
  type Service = { image?: string; command?: string[]; environment?: Record<string, string>; healthcheck?: unknown; volumes?: string[] };
  const compose = parse(readFileSync(join(DEPLOY, 'compose', 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const arenaServices = Object.entries(compose.services).filter(([, s]) => s.image === 'lapxcel-arena:latest');

  it('has the engines with healthchecks and volumes, two API processes behind a proxy, and one process per worker role', () => {
    for (const engine of ['postgres', 'kurrentdb', 'kafka', 'clickhouse']) {
      expect(compose.services[engine]?.healthcheck).toBeDefined();
      expect(compose.services[engine]?.volumes?.length).toBeGreaterThan(0);
    }
    expect(compose.services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    const started = arenaServices.map(([, s]) => roleOf(s.command ?? [])).filter((r) => r !== undefined).sort();
    expect(started).toEqual(['serve', 'serve', ...roles].sort());
    expect(compose.services.proxy?.healthcheck).toBeDefined();
    for (const [name, service] of arenaServices) {
      if (roleOf(service.command ?? []) === 'serve') expect({ name, healthcheck: service.healthcheck }).toEqual({ name, healthcheck: expect.anything() });
    }
  });

  it("passes `arena config check` for every role's environment", () => {
    for (const [name, service] of arenaServices) {
      const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
      expect({ name, ...checkConfig(env, roleOf(service.command ?? []), roles) }).toEqual({ name, ok: true, problems: [] });
    }
  });

  it('the check catches a broken environment (a role without its servers)', () => {
    const [, api] = arenaServices.find(([name]) => name === 'api-1')!;
    const env = Object.fromEntries(Object.entries(api.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
    delete env.CLICKHOUSE_URL;
    expect(checkConfig(env, 'serve', roles).ok).toBe(false);
  });
});

describe('deploy/kubernetes/arena.yaml', () => {
  type Container = {
    args?: string[];
    envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
    readinessProbe?: { httpGet?: { path: string } };
    livenessProbe?: { httpGet?: { path: string } };
    resources?: { requests?: { cpu?: string; memory?: string } };
  };
  type Manifest = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: { template?: { spec?: { containers?: Container[] } } } };
  const documents = parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', 'arena.yaml'), 'utf8'));
  const manifests = documents.map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Manifest;
  });
  const configMap = manifests.find((m) => m.kind === 'ConfigMap')!.data!;
  const deployments = manifests.filter((m) => m.kind === 'Deployment');
  const container = (m: Manifest) => m.spec!.template!.spec!.containers![0]!;

  it('runs the API with readiness on /readyz and liveness on /healthz, and every role with resource requests', () => {
    expect(deployments.map((d) => roleOf(container(d).args ?? [])).sort()).toEqual(['serve', ...roles].sort());
    const api = container(deployments.find((d) => roleOf(container(d).args ?? []) === 'serve')!);
    expect(api.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(api.livenessProbe?.httpGet?.path).toBe('/healthz');
    for (const d of deployments) expect({ name: d.metadata.name, requests: container(d).resources?.requests }).toEqual({ name: d.metadata.name, requests: { cpu: expect.any(String), memory: expect.any(String) } });
  });

  it("passes `arena config check` for every role's environment", () => {
    for (const d of deployments) {
      const env = { ...configMap, ...provided };
      expect(container(d).envFrom).toEqual([{ configMapRef: { name: 'arena-env' } }, { secretRef: { name: 'arena-secrets' } }]);
      expect({ name: d.metadata.name, ...checkConfig(env, roleOf(container(d).args ?? []), roles) }).toEqual({ name: d.metadata.name, ok: true, problems: [] });
    }
  });
});
