import { z } from 'zod';
import { ValidationError } from '../../../src/domain/shared/errors';
import { pathParameterNames, toOpenApiPath } from '../../../src/api/shared/openapi/openapi-document';
import { redactUrl } from '../../../src/api/shared/request-logging';
import { validateRequestPart } from '../../../src/api/shared/request-validation';
import { defineRoute, type AnyRouteDefinition, type AuthenticatedUser } from '../../../src/api/shared/route';

const TelemetryUpload = z.object({
  email: z.email(),
  data_points: z.array(z.object({ speed_kmh: z.number().max(400) })),
});

describe('defineRoute', () => {
  it('infers handler input types from the schemas (checked by tsc) and fits an AnyRouteDefinition list', async () => {
    const route = defineRoute({
      method: 'post',
      path: '/sessions/:id/data',
      summary: 'Upload telemetry',
      tags: ['telemetry'],
      auth: 'required',
      request: { body: TelemetryUpload, params: z.object({ id: z.string() }) },
      responses: { 201: { description: 'Stored' } },
      handler: async ({ body, params, query, user }) => {
        const speeds: number[] = body.data_points.map((point) => point.speed_kmh);
        const sessionId: string = params.id;
        // Omitted schema: the handler gets undefined.
        const noQuery: undefined = query;
        // auth: 'required' narrows the user to always present.
        const owner: AuthenticatedUser = user;
        return { status: 201, body: { sessionId, owner: owner.id, points: speeds.length, noQuery } };
      },
    });
    const optional = defineRoute({
      method: 'get',
      path: '/things',
      summary: 'List things',
      tags: ['things'],
      auth: 'optional',
      responses: { 200: { description: 'Things' } },
      handler: async ({ user, body }) => {
        const maybeUser: AuthenticatedUser | undefined = user;
        const noBody: undefined = body;
        return { status: 200, body: { user: maybeUser?.id ?? null, noBody } };
      },
    });
    const routes: AnyRouteDefinition[] = [route, optional];
    expect(routes.map((r) => r.path)).toEqual(['/sessions/:id/data', '/things']);
  });
});

describe('validateRequestPart', () => {
  it('returns the parsed value (with coercion) when valid', async () => {
    await expect(validateRequestPart(z.object({ limit: z.coerce.number().int() }), { limit: '20' }, 'query')).resolves.toEqual({ limit: 20 });
  });

  it('returns undefined when the route has no schema for the part', async () => {
    await expect(validateRequestPart(undefined, { anything: 1 }, 'body')).resolves.toBeUndefined();
  });

  it('names every bad field by its dotted path', async () => {
    const input = { email: 'nope', data_points: [{ speed_kmh: 1 }, { speed_kmh: 2 }, { speed_kmh: 3 }, { speed_kmh: 999 }] };
    const error = await validateRequestPart(TelemetryUpload, input, 'body').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    if (!(error instanceof ValidationError)) return;
    expect(error.details).toEqual({
      location: 'body',
      fields: { email: 'Invalid email address', 'data_points.3.speed_kmh': expect.stringMatching(/^Too big/) },
    });
    expect(error.message).toMatch(/^Invalid request body: email: Invalid email address \(and 1 more\)$/);
  });

  it('still runs a schema that needs async parsing (an async refinement), accepting and refusing as it says', async () => {
    const AsyncChecked = z.object({ name: z.string().refine(async (name) => name !== 'taken', 'Name taken') });
    await expect(validateRequestPart(AsyncChecked, { name: 'free' }, 'body')).resolves.toEqual({ name: 'free' });
    const error = await validateRequestPart(AsyncChecked, { name: 'taken' }, 'body').catch((e: unknown) => e);
    expect(error instanceof ValidationError && error.details).toEqual({ location: 'body', fields: { name: 'Name taken' } });
  });

  it('keys a whole-part failure by the part name', async () => {
    const error = await validateRequestPart(TelemetryUpload, undefined, 'body').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error instanceof ValidationError && error.details).toEqual({ location: 'body', fields: { body: expect.stringContaining('expected object') } });
  });
});

describe('OpenAPI paths', () => {
  it('converts express parameters and wildcards', () => {
    expect(toOpenApiPath('/agents/:id')).toBe('/agents/{id}');
    expect(toOpenApiPath('/submissions/agent/:agentId/logs')).toBe('/submissions/agent/{agentId}/logs');
    expect(toOpenApiPath('/files/*rest')).toBe('/files/{rest}');
    expect(pathParameterNames('/matches/:id/replay/:format')).toEqual(['id', 'format']);
    expect(pathParameterNames('/leaderboard')).toEqual([]);
  });
});

describe('redactUrl', () => {
  it('hides token-like query values and keeps the rest', () => {
    expect(redactUrl('/ws/telemetry?token=eyJabc.def&session=1')).toBe('/ws/telemetry?token=%5Bredacted%5D&session=1');
    expect(redactUrl('/x?Access_Token=a&refresh_token=b')).not.toMatch(/=a|=b/);
    expect(redactUrl('/agents?limit=5')).toBe('/agents?limit=5');
    expect(redactUrl('/agents')).toBe('/agents');
  });
});
