import { z } from 'zod';
import { apiRoutes } from '../../src/runtime/app-container';
import { DOCUMENT_EXAMPLES } from '../../src/api/shared/openapi/document-examples';
import { toOpenApiPath } from '../../src/api/shared/openapi/openapi-document';
import { createAgent, registerUser, startArenaSystem, upload, exampleAgentZip, type ArenaTestSystem } from './arena-support';

/**
 * Walks every operation of /api/v1/openapi.json and sends it what clients send: no token, a
 * garbage token, ids in the documents' style (`match-abc123-def456`), unknown UUIDs, real ids of
 * the caller's and of someone else's resources, empty, malformed and oversized bodies. Every status
 * the server answers must be one the document declares for that operation.
 */

let system: ArenaTestSystem;
let owner: { id: string; token: string };
let intruder: { id: string; token: string };
const real: Record<string, string> = {};

const BODY_LIMIT_BYTES = 4096;
const DOC_STYLE_ID = 'match-abc123-def456';
const UNKNOWN_UUID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

const OperationSchema = z.object({ responses: z.record(z.string(), z.unknown()), requestBody: z.unknown().optional() });
const DocumentSchema = z.object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) });

beforeAll(async () => {
  system = await startArenaSystem({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) } });
  owner = await registerUser(system.url, 'owner');
  intruder = await registerUser(system.url, 'intruder');
  real.agentId = await createAgent(system.url, owner.token, 'Walker');
  const submitted = await upload(system.url, owner.token, { agentId: real.agentId, zip: exampleAgentZip('random_agent') });
  expect(submitted.status).toBe(201);
  real.submissionId = String(submitted.body.id);
  const session = await fetchJson('POST', '/telemetry/sessions', owner.token, { session_name: 'Walk', track_name: 'Monza', car_model: 'Ferrari 488 GT3' });
  expect(session.status).toBe(201);
  real.sessionId = String(session.body.id);
  const job = await fetchJson('POST', '/training/jobs', owner.token, { algorithm: 'SAC', environment: 'LapSim-v1', total_timesteps: 1000 });
  expect(job.status).toBe(201);
  real.jobId = String(job.body.id);
}, 120_000);
afterAll(async () => {
  await system?.stop();
});

async function fetchJson(method: string, path: string, token?: string, body?: unknown, rawBody?: string) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${system.url}/api/v1${path}`, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = {};
  }
  return { status: response.status, body: parsed };
}

/** The real id for a path parameter, by the resource its path names. */
function realIdFor(path: string, name: string): string | undefined {
  if (name === 'session_id') return real.sessionId;
  if (name === 'job_id') return real.jobId;
  if (name === 'agentId') return real.agentId;
  if (name === 'envId') return 'pong';
  if (path.startsWith('/agents/')) return real.agentId;
  if (path.startsWith('/submissions/')) return real.submissionId;
  return undefined;
}

const fill = (path: string, value: (name: string) => string | undefined): string | undefined => {
  let missing = false;
  const filled = path.replace(/\{([^}]+)\}/g, (_all, name: string) => {
    const v = value(name);
    if (v === undefined) missing = true;
    return encodeURIComponent(v ?? '');
  });
  return missing ? undefined : filled;
};

describe('every status the server answers is declared in the OpenAPI document', () => {
  it('walks every route with what clients send', async () => {
    const document = DocumentSchema.parse((await fetchJson('GET', '/openapi.json')).body);
    const undeclared: string[] = [];
    const documentStyleIdsNotUnknown: string[] = [];
    const answered = new Map<string, Set<number>>();
    // Destructive calls (DELETE, cancel) last, so the other routes still find the real resources;
    // logout after them all, since it revokes the session whose token the walk uses.
    const rank = (op: { path: string; method: string }) => (op.path.endsWith('/auth/logout') ? 2 : op.method === 'delete' || op.path.endsWith('/cancel') ? 1 : 0);
    const operations = Object.entries(document.paths)
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation: OperationSchema.parse(operation) })))
      .sort((a, b) => rank(a) - rank(b));
    expect(operations.length).toBeGreaterThan(30);

    for (const { path, method, operation } of operations) {
      const declared = new Set(Object.keys(operation.responses).map(Number));
      const key = `${method.toUpperCase()} ${path}`;
      const seen = new Set<number>();
      answered.set(key, seen);
      const probe = async (label: string, filledPath: string | undefined, token: string | undefined, body?: unknown, rawBody?: string) => {
        if (filledPath === undefined) return;
        if (method === 'get' && (body !== undefined || rawBody !== undefined)) return; // fetch sends no body with GET
        const res = await fetchJson(method.toUpperCase(), filledPath, token, body, rawBody);
        seen.add(res.status);
        if (label === 'document-style ids' && path.includes('{') && res.status !== 404) documentStyleIdsNotUnknown.push(`${key} answered ${res.status}`);
        if (!declared.has(res.status)) undeclared.push(`${key} answered ${res.status} to ${label} (declared: ${[...declared].join(', ')}): ${String(res.body.detail ?? '')}`);
      };
      const withBody = operation.requestBody !== undefined ? {} : undefined;
      await probe('no token', fill(path, () => UNKNOWN_UUID), undefined, withBody);
      await probe('a garbage token', fill(path, () => UNKNOWN_UUID), 'garbage', withBody);
      await probe('document-style ids', fill(path, () => DOC_STYLE_ID), owner.token, withBody);
      await probe('unknown UUIDs', fill(path, () => UNKNOWN_UUID), owner.token, withBody);
      await probe('an empty body', fill(path, (name) => realIdFor(path, name)), owner.token, withBody);
      await probe('malformed JSON', fill(path, (name) => realIdFor(path, name)), owner.token, undefined, '{"oops": ');
      await probe('an oversized body', fill(path, (name) => realIdFor(path, name)), owner.token, undefined, JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT_BYTES * 2) }));
      await probe("someone else's resource", fill(path, (name) => realIdFor(path, name)), intruder.token, withBody);
      await probe("the caller's resource", fill(path, (name) => realIdFor(path, name)), owner.token, withBody);
    }
    expect(undeclared).toEqual([]);
    // `match-abc123-def456` and the like are simply unknown ids: 404 on every route with a path parameter.
    expect(documentStyleIdsNotUnknown).toEqual([]);
    // The walk reached the interesting answers, not only 401s and 404s.
    const all = new Set([...answered.values()].flatMap((s) => [...s]));
    for (const status of [200, 400, 401, 403, 404, 413]) expect(all.has(status)).toBe(true);
    // The issue's example: an unknown agent on POST /submissions is a declared 404.
    expect(Object.keys(OperationSchema.parse(document.paths['/submissions']?.post).responses)).toContain('404');
  }, 300_000);
});

/** Dotted paths of the fields in `value` that `schema` does not have (objects and arrays walked). */
function fieldsMissingFrom(schema: z.ZodType, value: unknown, at = ''): string[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const inner = (key: string) => def[key] as z.ZodType;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return fieldsMissingFrom(inner('innerType'), value, at);
    case 'pipe':
      return fieldsMissingFrom(inner('in'), value, at);
    case 'union': {
      const results = (def.options as z.ZodType[]).map((option) => fieldsMissingFrom(option, value, at));
      return results.find((missing) => missing.length === 0) ?? results[0] ?? [];
    }
    case 'array':
      return Array.isArray(value) ? value.flatMap((item, i) => fieldsMissingFrom(inner('element'), item, `${at}${i}.`)) : [];
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
      const shape = def.shape as Record<string, z.ZodType>;
      return Object.entries(value).flatMap(([key, child]) => {
        const field = shape[key];
        return field === undefined ? [`${at}${key}`] : fieldsMissingFrom(field, child, `${at}${key}.`);
      });
    }
    default:
      return [];
  }
}

describe("the documents' request and response examples", () => {
  it('appear as OpenAPI examples of their operations', async () => {
    const document = (await fetchJson('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const absent: string[] = [];
    const examplesAt = (content: unknown): unknown[] => {
      const media = Object.values((content ?? {}) as Record<string, { examples?: Record<string, { value: unknown }> }>);
      return media.flatMap((m) => Object.values(m.examples ?? {}).map((e) => e.value));
    };
    let count = 0;
    for (const [operation, examples] of Object.entries(DOCUMENT_EXAMPLES)) {
      const [method = '', path = ''] = operation.split(' ');
      const served = document.paths[path]?.[method.toLowerCase()] as { requestBody?: { content?: unknown }; responses?: Record<string, { content?: unknown }> } | undefined;
      if (served === undefined) {
        absent.push(`${operation}: no such operation`);
        continue;
      }
      for (const example of examples.request ?? []) {
        count += 1;
        if (!examplesAt(served.requestBody?.content).some((value) => JSON.stringify(value) === JSON.stringify(example.value))) absent.push(`${operation} request (${example.contract})`);
      }
      for (const [status, list] of Object.entries(examples.responses ?? {})) {
        for (const example of list) {
          count += 1;
          if (!examplesAt(served.responses?.[status]?.content).some((value) => JSON.stringify(value) === JSON.stringify(example.value))) absent.push(`${operation} ${status} (${example.contract})`);
        }
      }
    }
    expect(absent).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(47);
  });

  it('are accepted by the routes (requests) and name only fields the server answers (responses)', () => {
    const routes = new Map(apiRoutes(system.services).map((route) => [`${route.method.toUpperCase()} ${toOpenApiPath(route.path)}`, route]));
    const problems: string[] = [];
    for (const [operation, examples] of Object.entries(DOCUMENT_EXAMPLES)) {
      const route = routes.get(operation);
      if (route === undefined) {
        problems.push(`${operation}: no route`);
        continue;
      }
      for (const example of examples.request ?? []) {
        const parsed = route.request?.body?.safeParse(example.value);
        if (!parsed?.success) problems.push(`${operation} request (${example.contract}) rejected: ${parsed?.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') ?? 'no body schema'}`);
      }
      for (const [status, list] of Object.entries(examples.responses ?? {})) {
        const schema = route.responses[Number(status)]?.schema;
        if (schema === undefined) continue; // files and pages (replays) have no JSON schema to compare
        for (const example of list) {
          const missing = fieldsMissingFrom(schema, example.value);
          if (missing.length > 0) problems.push(`${operation} ${status} (${example.contract}) fields the server does not answer: ${missing.join(', ')}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
