import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { CommandContext } from '../../commands/command-context';
import type { Logger } from '../../infrastructure/logging/logger';

/**
 * The declarative route every feature writes. One definition drives validation, authentication,
 * rate limiting, the handler call and the OpenAPI document, so they cannot drift apart.
 */

/**
 * Which budget a route draws from (limits come from config, see docs/api-conventions.md): RL-Arena's
 * per-minute `auth`, `submissions`, `matches`, `default`, or LapXcel's hourly `lapxcel`.
 */
export type RateLimitCategory = 'auth' | 'submissions' | 'matches' | 'default' | 'lapxcel' | 'runner';

export type AuthMode = 'required' | 'optional' | 'none';

export interface AuthenticatedUser {
  id: string;
  username: string;
  /** The sign-in session the access token belongs to (its `sid` claim). */
  sessionId?: string;
}

/** The schema type an omitted `request.body` / `query` / `params` stands for: handlers see `undefined`. */
export type NoSchema = z.ZodUndefined;

/** A read model by the name of the PostgreSQL projection that builds it (e.g. `usersProjection`). */
export interface ReadModelRef {
  readonly name: string;
}

/** What a command wrote: the stream and its revision after the command (null: nothing was ever written). */
export interface WrittenStream {
  streamId: string;
  revision: bigint | null;
}

export interface RouteContext<B, Q, P, A extends AuthMode = AuthMode> {
  body: B;
  query: Q;
  params: P;
  /**
   * Always set when auth is 'required' (the type says so); set on 'optional' routes only when a
   * valid access token came; never set on 'none' routes.
   */
  user: A extends 'required' ? AuthenticatedUser : AuthenticatedUser | undefined;
  requestId: string;
  /** Child logger already bound to the request id. */
  log: Logger;
  req: Request;
  res: Response;
  /**
   * The command context of this request: the store, the clock, ids, the process's state sources,
   * and metadata naming the request (correlation and causation = request id) and the signed-in user.
   */
  command: CommandContext;
  /**
   * Read-your-writes on the route's `waitFor` read model: waits, boundedly (not at all while the bus
   * is known to be down), until it has applied `written`. False when it has not: the answer must then
   * come from the command's own outcome, never from that read model. Only for answers that depend on
   * it; otherwise return `written` with the result.
   */
  caughtUp(written: WrittenStream): Promise<boolean>;
}

export interface RouteResult {
  status: number;
  /** Sent as JSON; omit for bodiless answers such as 204. */
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * What the command wrote: the answer is sent once the route's `waitFor` read model has applied it
   * (or the bounded wait gave up), so the client's next GET sees its write.
   */
  written?: WrittenStream;
}

export interface RouteResponseDoc {
  description: string;
  /** Omitted on a 4xx/5xx status: the OpenAPI document uses the shared error body. */
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
  /** Other content types the same status may answer with; no schema documents a string (text, bytes). */
  alternatives?: Record<string, z.ZodType | undefined>;
}

export interface RouteDefinition<
  B extends z.ZodType = NoSchema,
  Q extends z.ZodType = NoSchema,
  P extends z.ZodType = NoSchema,
  A extends AuthMode = AuthMode,
> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express style, relative to /api/v1, e.g. '/agents/:id'. */
  path: string;
  summary: string;
  tags: string[];
  auth: A;
  /** Defaults to 'default'. Several categories: every one of their budgets applies. */
  rateLimit?: RateLimitCategory | readonly RateLimitCategory[];
  /** Query and params schemas must be z.object(...) (optionally piped/transformed). */
  request?: { body?: B; query?: Q; params?: P };
  /**
   * A body the handler reads itself (e.g. a multipart upload from `ctx.req`): shown in the OpenAPI
   * document with its content type, never validated by the route. Not for JSON bodies: use request.body.
   */
  documentedBody?: { contentType: string; schema: z.ZodType; description?: string };
  responses: Record<number, RouteResponseDoc>;
  /**
   * Read-your-writes, declared: the read model the next GET of what this route changes reads. The
   * answer waits for it to apply the result's `written` stream revision (see RouteResult.written,
   * RouteContext.caughtUp).
   */
  waitFor?: ReadModelRef;
  /**
   * Returns the status and JSON body, or 'handled' when the handler wrote the response itself
   * (files, HTML, streams). Declared as a method so definitions with different schemas can share
   * one `AnyRouteDefinition[]` list.
   */
  handler(ctx: RouteContext<z.infer<B>, z.infer<Q>, z.infer<P>, A>): Promise<RouteResult | 'handled'>;
}

/** What `createHttpApp` accepts: any route, whatever its schemas. */
export type AnyRouteDefinition = RouteDefinition<z.ZodType, z.ZodType, z.ZodType, AuthMode>;

/**
 * Identity at runtime; exists so TypeScript infers body/query/params types from the schemas and
 * narrows `ctx.user` on `auth: 'required'` routes.
 *
 * ```ts
 * export const getAgent = defineRoute({
 *   method: 'get', path: '/agents/:id', summary: 'Get an agent', tags: ['agents'], auth: 'none',
 *   request: { params: z.object({ id: z.uuid() }) },
 *   responses: { 200: { description: 'The agent', schema: AgentSchema }, 404: { description: 'No such agent' } },
 *   handler: async ({ params }) => ({ status: 200, body: await agents.get(params.id) }),
 * });
 * ```
 */
export function defineRoute<
  B extends z.ZodType = NoSchema,
  Q extends z.ZodType = NoSchema,
  P extends z.ZodType = NoSchema,
  A extends AuthMode = AuthMode,
>(definition: RouteDefinition<B, Q, P, A>): RouteDefinition<B, Q, P, A> {
  return definition;
}
