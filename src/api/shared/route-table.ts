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
    this.#entries.push({ methods: new Set([method.toUpperCase()]), path, segments: plainSegments(path), chain });
  }

  /** A path express answers for every method before any route of this table (its own layers). */
  claimedByExpress(path: string): void {
    this.#entries.push({ methods: 'any', path, segments: plainSegments(path), chain: undefined });
  }

  /** Middleware for the app, mounted just before the router these routes are in, at `basePath`. */
  middleware(basePath: string): RequestHandler {
    const byMethod = new Map<string, readonly TableEntry[]>();
    for (const method of TABLE_METHODS) {
      byMethod.set(
        method,
        this.#entries.filter((entry) => entry.methods === 'any' || entry.methods.has(method)),
      );
    }
    const prefix = `${basePath}/`;
    return (req, res, next) => {
      const entries = byMethod.get(req.method);
      const url = req.url;
      if (entries === undefined || !url.startsWith(prefix)) {
        next();
        return;
      }
      const found = lookUp(entries, url, basePath.length);
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
  path: string;
  chain: readonly RequestHandler[];
  params: Record<string, string>;
}

interface TableEntry {
  methods: ReadonlySet<string> | 'any';
  path: string;
  /** Literal segments in lower case, parameters by name; undefined: not plain, express decides. */
  segments: readonly Segment[] | undefined;
  /** undefined: express's own layer answers this path. */
  chain: readonly RequestHandler[] | undefined;
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

function lookUp(entries: readonly TableEntry[], url: string, basePathLength: number): Found | undefined {
  const queryAt = url.indexOf('?');
  const pathname = queryAt === -1 ? url.slice(basePathLength) : url.slice(basePathLength, queryAt);
  if (!PLAIN_PATH.test(pathname)) return undefined;
  const parts = pathname.slice(1).split('/');
  for (const part of parts) if (part.length === 0) return undefined;
  for (const entry of entries) {
    if (entry.segments === undefined) return undefined;
    const params = matchSegments(entry.segments, parts);
    if (params === 'no match') continue;
    if (params === undefined || entry.chain === undefined) return undefined;
    return { path: entry.path, chain: entry.chain, params };
  }
  return undefined;
}

/** The decoded parameters, 'no match', or undefined when a parameter does not decode (express answers that). */
function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | 'no match' | undefined {
  if (segments.length !== parts.length) return 'no match';
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if ('literal' in segment && parts[i]!.toLowerCase() !== segment.literal) return 'no match';
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
  req.route = { path: found.path };
  let index = 0;
  const next = (error?: unknown): void => {
    if (error !== undefined && error !== null && error !== 'route' && error !== 'router') {
      req.url = url;
      req.baseUrl = baseUrl;
      req.params = params;
      leave(error);
      return;
    }
    const handler = found.chain[index++];
    if (handler === undefined || error === 'route' || error === 'router') {
      req.url = url;
      req.baseUrl = baseUrl;
      req.params = params;
      leave(new Error(`route ${found.path} passed the request on past its handlers; the route table cannot resume express's walk`));
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
