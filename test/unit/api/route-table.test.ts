import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RouteTable } from '../../../src/api/shared/route-table';

/**
 * What the table takes and what it leaves to express (`next()` with no argument), on requests as
 * the app hands them over (req.url with the base path, req.baseUrl ''). The integration suite
 * (test/integration/api/route-table.test.ts) checks the answers are express's.
 */

interface Seen {
  route: string;
  params: unknown;
  url: string;
  baseUrl: string;
}

function table(): { middleware: RequestHandler; seen: Seen[] } {
  const seen: Seen[] = [];
  const recording =
    (route: string): RequestHandler =>
    (req) => {
      seen.push({ route, params: req.params, url: req.url, baseUrl: req.baseUrl });
    };
  const routes = new RouteTable();
  routes.claimedByExpress('/openapi.json');
  routes.add('get', '/telemetry/sessions', [recording('list')]);
  routes.add('get', '/agents/:id', [recording('agent')]);
  routes.add('get', '/agents/leaderboard', [recording('leaderboard')]);
  routes.add('get', '/files/*rest', [recording('files')]);
  routes.add('get', '/files/plain', [recording('after a pattern express decides')]);
  routes.add('post', '/agents', [(_req, _res, next) => next(), recording('created')]);
  return { middleware: routes.middleware('/api/v1'), seen };
}

function send(middleware: RequestHandler, method: string, url: string): { passedOn: unknown[] | undefined } {
  const req = { method, url, baseUrl: '', params: {} } as unknown as Request;
  let passedOn: unknown[] | undefined;
  const next: NextFunction = (...args: unknown[]) => {
    passedOn = args;
  };
  void middleware(req, {} as Response, next);
  return { passedOn };
}

describe('RouteTable', () => {
  it('runs the chain of the first route registered that matches, with the decoded parameters and the router-relative url', () => {
    const { middleware, seen } = table();
    expect(send(middleware, 'GET', '/api/v1/telemetry/sessions?limit=5').passedOn).toBeUndefined();
    expect(send(middleware, 'GET', '/api/v1/agents/leaderboard').passedOn).toBeUndefined();
    expect(send(middleware, 'GET', '/api/v1/AGENTS/a%2Fb').passedOn).toBeUndefined();
    expect(send(middleware, 'POST', '/api/v1/agents').passedOn).toBeUndefined();
    expect(seen).toEqual([
      { route: 'list', params: {}, url: '/telemetry/sessions?limit=5', baseUrl: '/api/v1' },
      { route: 'agent', params: { id: 'leaderboard' }, url: '/agents/leaderboard', baseUrl: '/api/v1' },
      { route: 'agent', params: { id: 'a/b' }, url: '/AGENTS/a%2Fb', baseUrl: '/api/v1' },
      { route: 'created', params: {}, url: '/agents', baseUrl: '/api/v1' },
    ]);
  });

  it.each([
    ['HEAD', '/api/v1/telemetry/sessions'],
    ['OPTIONS', '/api/v1/telemetry/sessions'],
    ['GET', '/api/v1/telemetry/sessions/'],
    ['GET', '/api/v1/telemetry//sessions'],
    ['GET', '/api/v1/agents/%E0%A4%A'],
    ['GET', '/api/v1/agents/caf\u00e9'],
    ['GET', '/api/v1/openapi.json'],
    ['GET', '/api/v1/files/plain'],
    ['GET', '/api/v1/nothing/here'],
    ['GET', '/metrics'],
    ['GET', '/api/v1'],
    ['PUT', '/api/v1/agents/1'],
  ])('leaves %s %s to express', (method, url) => {
    const { middleware, seen } = table();
    expect(send(middleware, method, url).passedOn).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('hands an error of the chain on with the url and base url of the app restored', () => {
    const failing = new Error('refused');
    const routes = new RouteTable();
    routes.add('get', '/things/:id', [
      () => {
        throw failing;
      },
    ]);
    const req = { method: 'GET', url: '/api/v1/things/7', baseUrl: '', params: {} } as unknown as Request;
    const passedOn: unknown[] = [];
    void routes.middleware('/api/v1')(req, {} as Response, (error?: unknown) => passedOn.push(error));
    expect(passedOn).toEqual([failing]);
    expect({ url: req.url, baseUrl: req.baseUrl, route: req.route as unknown }).toEqual({ url: '/api/v1/things/7', baseUrl: '', route: { path: '/things/:id' } });
  });
});
