import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The API's routes by method and path, looked up before express walks its layers. Express finds a
 * route by trying each layer's regular expression in registration order (the app's, then the API
 * router's ~50 routes and their 405 answers), for every request. This table takes the requests it
 * can answer exactly as that walk would, and leaves every other request to it:
 *
 * - only the methods routes declare (GET, POST, PUT, PATCH, DELETE; HEAD and OPTIONS go to express);
 * - only paths in plain form: under the base path, no empty segment (no trailing slash), only
 *   characters a URL path holds unescaped or %-escaped, every %-escape in a parameter decodable;
 * - literal segments compared without case, as express does (`sensitive: false`); a `:name` segment
 *   takes any non-empty segment and hands it decoded, as express does;
 * - the first route in registration order that matches wins, as in express. A path that an express
 *   layer registered earlier claims (`claimedByExpress`, e.g. `/openapi.json`), or a route whose
 *   pattern is not plain segments, stops the lookup there: express answers.
 *
 * A matched request runs the route's own handler chain with what express's router would have set
 * (`req.params`, `req.route.path`, `req.baseUrl`, `req.url` relative to the base path). An error
 * leaves with `req.url` and `req.baseUrl` restored, to the app's error handler, as it leaves the
 * router. A chain that calls `next()` past its end (none of ours does) is an error here, since the
 * walk it would resume was skipped.
 */
export class RouteTable {
  readonly #entries: TableEntry[] = [];

  /** A route, in registration order, with the chain express would run for it. */
  add(method: string, path: string, chain: readonly RequestHandler[]): void {
    this.#entries.push({ methods: new Set([method.toUpperCase()]), path, segments: plainSegments(path), routed: { route: { path }, chain } });
  }

  /** A path express answers for every method before any route of this table (its own layers). */
  claimedByExpress(path: string): void {
    this.#entries.push({ methods: 'any', path, segments: plainSegments(path), routed: undefined });
  }

  /** Middleware for the app, mounted just before the router these routes are in, at `basePath`. */
  middleware(basePath: string): RequestHandler {
    // Per method, the entries that can match a path of n segments, in registration order; an entry
    // that is not plain segments (express decides) is in every list, where it stops the lookup.
    const byMethod = new Map<string, Map<number, readonly TableEntry[]>>();
    const counts = new Set(this.#entries.flatMap((entry) => (entry.segments === undefined ? [] : [entry.segments.length])));
    for (const method of TABLE_METHODS) {
      const ofMethod = this.#entries.filter((entry) => entry.methods === 'any' || entry.methods.has(method));
      const bySegments = new Map<number, readonly TableEntry[]>();
      for (const count of counts) bySegments.set(count, ofMethod.filter((entry) => entry.segments === undefined || entry.segments.length === count));
      byMethod.set(method, bySegments);
    }
    const prefix = `${basePath}/`;
    return (req, res, next) => {
      const bySegments = byMethod.get(req.method);
      const url = req.url;
      const found = bySegments === undefined || !url.startsWith(prefix) ? undefined : lookUp(bySegments, url, basePath.length);
      if (found === undefined) {
        next();
        return;
      }
      runChain(found, basePath, req, res, next);
    };
  }
}

/** A request this table answers: its route, chain and decoded parameters. */
interface Found {
  entry: RoutedEntry;
  params: Record<string, string>;
}

/** What `req.route` holds for a route of this table: its pattern (what the request metrics read). */
interface RouteOfRequest {
  readonly path: string;
}

interface RoutedEntry {
  readonly route: RouteOfRequest;
  readonly chain: readonly RequestHandler[];
}

interface TableEntry {
  methods: ReadonlySet<string> | 'any';
  path: string;
  /** Literal segments in lower case, parameters by name; undefined: not plain, express decides. */
  segments: readonly Segment[] | undefined;
  /** undefined: express's own layer answers this path. */
  routed: RoutedEntry | undefined;
}

type Segment = { literal: string } | { param: string };

const TABLE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A URL path's characters, unescaped or as %-escapes (RFC 3986 pchar and '/'). */
const PLAIN_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const PARAM_SEGMENT = /^:([A-Za-z_$][A-Za-z0-9_$]*)$/;
const LITERAL_SEGMENT = /^[A-Za-z0-9\-._~]+$/;

/** A route path as segments, or undefined unless it is only `/literal` and `/:name` segments. */
function plainSegments(path: string): Segment[] | undefined {
  if (!path.startsWith('/') || path.length === 1) return undefined;
  const segments: Segment[] = [];
  for (const part of path.slice(1).split('/')) {
    const param = PARAM_SEGMENT.exec(part);
    if (param !== null) segments.push({ param: param[1]! });
    else if (LITERAL_SEGMENT.test(part)) segments.push({ literal: part.toLowerCase() });
    else return undefined;
  }
  return segments;
}

function lookUp(bySegments: ReadonlyMap<number, readonly TableEntry[]>, url: string, basePathLength: number): Found | undefined {
  const queryAt = url.indexOf('?');
  const pathname = queryAt === -1 ? url.slice(basePathLength) : url.slice(basePathLength, queryAt);
  if (!PLAIN_PATH.test(pathname)) return undefined;
  const parts = pathname.slice(1).split('/');
  const entries = bySegments.get(parts.length);
  if (entries === undefined) return undefined;
  for (const part of parts) if (part.length === 0) return undefined;
  const lowerParts = pathname.toLowerCase().slice(1).split('/');
  for (const entry of entries) {
    if (entry.segments === undefined) return undefined;
    const params = matchSegments(entry.segments, parts, lowerParts);
    if (params === 'no match') continue;
    if (params === undefined || entry.routed === undefined) return undefined;
    return { entry: entry.routed, params };
  }
  return undefined;
}

/** The decoded parameters, 'no match', or undefined when a parameter does not decode (express answers that). */
function matchSegments(segments: readonly Segment[], parts: readonly string[], lowerParts: readonly string[]): Record<string, string> | 'no match' | undefined {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if ('literal' in segment && lowerParts[i] !== segment.literal) return 'no match';
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (!('param' in segment)) continue;
    const part = parts[i]!;
    if (!part.includes('%')) {
      params[segment.param] = part;
      continue;
    }
    try {
      params[segment.param] = decodeURIComponent(part);
    } catch {
      return undefined;
    }
  }
  return params;
}

/** What express's router leaves on a request it dispatched into a route of a router mounted at `basePath`. */
function runChain(found: Found, basePath: string, req: Request, res: Response, leave: NextFunction): void {
  const url = req.url;
  const baseUrl = req.baseUrl;
  const params = req.params;
  req.url = url.slice(basePath.length);
  req.baseUrl = `${baseUrl}${basePath}`;
  req.params = found.params;
  req.route = found.entry.route;
  /** Leaves the chain with the request as the router would leave it. */
  const leaveWith = (error: unknown): void => {
    req.url = url;
    req.baseUrl = baseUrl;
    req.params = params;
    leave(error);
  };
  let index = 0;
  const next = (error?: unknown): void => {
    if (error !== undefined && error !== null && error !== 'route' && error !== 'router') {
      leaveWith(error);
      return;
    }
    const handler = found.entry.chain[index++];
    if (handler === undefined || error === 'route' || error === 'router') {
      leaveWith(new Error(`route ${found.entry.route.path} passed the request on past its handlers; the route table cannot resume express's walk`));
      return;
    }
    try {
      const returned: unknown = handler(req, res, next);
      if (returned instanceof Promise) returned.then(undefined, (rejection: unknown) => next(rejection ?? new Error('Rejected promise')));
    } catch (thrown) {
      next(thrown);
    }
  };
  next();
}
