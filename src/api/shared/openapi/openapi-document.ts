import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ErrorBodySchema } from '../error-mapping';
import type { AnyRouteDefinition } from '../route';
import { DOCUMENT_EXAMPLES, ERROR_BODY_EXAMPLES, namedExamples } from './document-examples';

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the
 * documentation cannot promise what the server does not check.
 */

export const API_BASE_PATH = '/api/v1';
const BEARER_SCHEME = 'bearerAuth';

/** openapi3-ts is only a transitive dependency, so the type is taken from the generator. */
export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/**
 * zod's own `.meta({ id })` names the component: `registry.register` would need
 * `extendZodWithOpenApi` to have run before the schema was created, which zod 4 requires
 * per instance. Created once per process because zod rejects a second schema with the same id.
 */
const ErrorBodyComponent = ErrorBodySchema.meta({ id: 'ErrorBody', examples: ERROR_BODY_EXAMPLES.map((example) => example.value) });

export interface OpenApiDocumentOptions {
  title: string;
  version: string;
  description?: string;
  /** Whether 429 is documented on every route. */
  rateLimited: boolean;
}

type ParameterSchema = z.ZodObject | z.ZodPipe;

/** '/agents/:id' -> '/agents/{id}'; Express 5 wildcards '*rest' -> '{rest}'. */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

export function pathParameterNames(expressPath: string): string[] {
  return [...expressPath.matchAll(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
}

export function buildOpenApiDocument(routes: readonly AnyRouteDefinition[], options: OpenApiDocumentOptions): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access token from /auth/login or /auth/register (HS256).',
  });
  for (const route of routes) registry.registerPath(toRouteConfig(route, ErrorBodyComponent, options.rateLimited));
  return new OpenApiGeneratorV31([...registry.definitions, ErrorBodyComponent]).generateDocument({
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, ...(options.description ? { description: options.description } : {}) },
    servers: [{ url: API_BASE_PATH }],
  });
}

function toRouteConfig(route: AnyRouteDefinition, errorBody: z.ZodType, rateLimited: boolean): RouteConfig {
  const where = `${route.method.toUpperCase()} ${route.path}`;
  const examples = DOCUMENT_EXAMPLES[`${route.method.toUpperCase()} ${toOpenApiPath(route.path)}`];
  const request: NonNullable<RouteConfig['request']> = {};
  const params = route.request?.params ?? impliedPathParameters(route.path);
  if (params !== undefined) request.params = asParameterSchema(params, `${where} params`);
  if (route.request?.query !== undefined) request.query = asParameterSchema(route.request.query, `${where} query`);
  if (route.documentedBody !== undefined) {
    const { contentType, schema, description } = route.documentedBody;
    request.body = { required: true, description, content: { [contentType]: { schema } } };
  }
  if (route.request?.body !== undefined) {
    const requestExamples = examples?.request ? { examples: namedExamples(examples.request) } : {};
    request.body = { required: true, content: { 'application/json': { schema: route.request.body, ...requestExamples } } };
  }

  const responses: Record<string, ResponseConfig> = {};
  for (const [status, doc] of Object.entries(route.responses)) {
    const schema = doc.schema ?? (Number(status) >= 400 ? errorBody : undefined);
    const contentType = doc.contentType ?? 'application/json';
    const documented = examples?.responses?.[Number(status)];
    const responseExamples = documented && contentType === 'application/json' ? { examples: namedExamples(documented) } : {};
    responses[status] = {
      description: doc.description,
      ...(schema !== undefined ? { content: { [contentType]: { schema, ...responseExamples } } } : doc.contentType ? { content: { [contentType]: { schema: { type: 'string' }, ...responseExamples } } } : {}),
    };
    // Further representations of the same answer (e.g. a replay as JSON or as an HTML page).
    for (const [alternativeType, alternativeSchema] of Object.entries(doc.alternatives ?? {})) {
      responses[status] = {
        ...responses[status],
        content: { ...responses[status]!.content, [alternativeType]: { schema: alternativeSchema ?? { type: 'string' } } },
      };
    }
  }
  // What the shared machinery itself can answer, unless the route documented it already.
  const implied: Array<[number, string, boolean]> = [
    [400, 'Invalid input (details.fields names each bad field)', route.request !== undefined],
    [401, 'Missing, invalid or expired access token', route.auth === 'required'],
    [404, 'Not found', params !== undefined],
    [413, 'Request body larger than BODY_LIMIT_BYTES', route.request?.body !== undefined],
    [429, 'Rate limit exceeded', rateLimited],
    [500, 'Internal server error', true],
  ];
  for (const [status, description, applies] of implied) {
    if (applies && responses[status] === undefined) {
      responses[status] = { description, content: { 'application/json': { schema: errorBody } } };
    }
  }

  return {
    method: route.method,
    path: toOpenApiPath(route.path),
    summary: route.summary,
    tags: route.tags,
    // 'optional': a token is used when sent, so both "bearer" and "nothing" are valid.
    ...(route.auth === 'required' ? { security: [{ [BEARER_SCHEME]: [] }] } : {}),
    ...(route.auth === 'optional' ? { security: [{ [BEARER_SCHEME]: [] }, {}] } : {}),
    request,
    responses,
  };
}

/** A path with ':id' but no params schema still documents `id`, as OpenAPI requires. */
function impliedPathParameters(path: string): z.ZodObject | undefined {
  const names = pathParameterNames(path);
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((name) => [name, z.string()])));
}

function asParameterSchema(schema: z.ZodType, where: string): ParameterSchema {
  if (schema instanceof z.ZodObject || schema instanceof z.ZodPipe) return schema;
  // Query strings and paths are name=value maps; anything else is a mistake in the definition.
  throw new Error(`${where}: schema must be a z.object(...)`);
}
