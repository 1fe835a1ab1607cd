import * as domainErrors from '../../../src/domain/shared/errors';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  InvalidStateError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  UnprocessableError,
  ValidationError,
} from '../../../src/domain/shared/errors';
import { ErrorBodySchema, INTERNAL_ERROR_MESSAGE, mapError } from '../../../src/api/shared/error-mapping';
import { WrongExpectedRevisionError } from '../../../src/infrastructure/eventstore/errors';

const REQUEST_ID = 'req-123';

describe('mapError', () => {
  it.each([
    [new ValidationError('bad email'), 400, 'ValidationError', 'VALIDATION_ERROR'],
    [new InvalidStateError('not failed'), 400, 'InvalidStateError', 'INVALID_STATE'],
    [new UnauthorizedError('no token'), 401, 'UnauthorizedError', 'UNAUTHORIZED'],
    [new ForbiddenError('not yours'), 403, 'ForbiddenError', 'FORBIDDEN'],
    [new NotFoundError('no agent'), 404, 'NotFoundError', 'NOT_FOUND'],
    [new ConflictError('name taken'), 409, 'ConflictError', 'CONFLICT'],
    [new PayloadTooLargeError('too big'), 413, 'PayloadTooLargeError', 'PAYLOAD_TOO_LARGE'],
    [new UnprocessableError('cannot'), 422, 'UnprocessableError', 'UNPROCESSABLE_ENTITY'],
    [new RateLimitedError('slow down'), 429, 'RateLimitedError', 'RATE_LIMIT_EXCEEDED'],
    [new UnavailableError('db down'), 503, 'UnavailableError', 'SERVICE_UNAVAILABLE'],
  ])('maps %p to %i with the superset body', (error, status, errorType, code) => {
    const mapped = mapError(error, REQUEST_ID);
    expect(mapped.status).toBe(status);
    expect(mapped.expected).toBe(true);
    expect(mapped.body).toEqual({
      detail: error.message,
      status_code: status,
      error_type: errorType,
      error: error.message,
      code,
      details: {},
    });
    expect(ErrorBodySchema.safeParse(mapped.body).success).toBe(true);
  });

  it('maps every AppError subclass the domain exports (a new one must be added to the mapping)', () => {
    const subclasses = Object.values(domainErrors).filter(
      // Every concrete subclass shares ValidationError's constructor shape.
      (value): value is typeof ValidationError => typeof value === 'function' && value.prototype instanceof AppError,
    );
    expect(subclasses.length).toBeGreaterThanOrEqual(10);
    for (const ErrorClass of subclasses) {
      const mapped = mapError(new ErrorClass('x'), REQUEST_ID);
      expect({ name: ErrorClass.name, status: mapped.status }).not.toEqual({ name: ErrorClass.name, status: 500 });
    }
  });

  it('passes details through', () => {
    const mapped = mapError(new ValidationError('bad', { fields: { email: 'Invalid email address' } }), REQUEST_ID);
    expect(mapped.body.details).toEqual({ fields: { email: 'Invalid email address' } });
  });

  it('maps a concurrency conflict to 409 without naming streams or revisions', () => {
    const mapped = mapError(new WrongExpectedRevisionError('agent-42', 3n, 5n), REQUEST_ID);
    expect(mapped.status).toBe(409);
    expect(mapped.body.error_type).toBe('ConflictError');
    expect(mapped.body.code).toBe('CONCURRENT_MODIFICATION');
    expect(JSON.stringify(mapped.body)).not.toContain('agent-42');
  });

  it('hides unknown errors behind a generic 500 carrying the request id', () => {
    const secret = 'postgres://admin:hunter2@db/prod';
    const mapped = mapError(new Error(`connect failed ${secret}`), REQUEST_ID);
    expect(mapped).toEqual({
      status: 500,
      expected: false,
      body: {
        detail: INTERNAL_ERROR_MESSAGE,
        status_code: 500,
        error_type: 'InternalServerError',
        error: INTERNAL_ERROR_MESSAGE,
        code: 'INTERNAL_ERROR',
        details: { request_id: REQUEST_ID },
      },
    });
    expect(JSON.stringify(mapped.body)).not.toContain('hunter2');
  });

  it('treats thrown non-errors as unknown', () => {
    expect(mapError('boom', REQUEST_ID).status).toBe(500);
    expect(mapError(undefined, REQUEST_ID).status).toBe(500);
  });

  it('maps body-parser failures without echoing the body', () => {
    const parseFailure = Object.assign(new SyntaxError('Unexpected token s in JSON: {secret'), { type: 'entity.parse.failed', status: 400, expose: true });
    const parsed = mapError(parseFailure, REQUEST_ID);
    expect(parsed.status).toBe(400);
    expect(parsed.body.code).toBe('VALIDATION_ERROR');
    expect(parsed.body.detail).not.toContain('secret');

    const tooLarge = Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, expose: true, limit: 1024 });
    const large = mapError(tooLarge, REQUEST_ID);
    expect(large.status).toBe(413);
    expect(large.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(large.body.details).toEqual({ limit_bytes: 1024 });
  });

  it('maps client errors from the router and http-errors to 4xx, and server-side ones to 500', () => {
    const badParam = Object.assign(new URIError("Failed to decode param '%E0'"), { status: 400 });
    expect(mapError(badParam, REQUEST_ID).status).toBe(400);
    expect(mapError(badParam, REQUEST_ID).body.detail).toBe('Bad request');
    const internal = Object.assign(new Error('stream not readable'), { type: 'stream.not.readable', status: 500, expose: false });
    expect(mapError(internal, REQUEST_ID).status).toBe(500);
  });
});
