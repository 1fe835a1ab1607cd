import { z } from 'zod';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  HeaderFieldsTooLargeError,
  InvalidStateError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  RequestTimeoutError,
  UnauthorizedError,
  UnavailableError,
  UnprocessableError,
  ValidationError,
} from '../../domain/shared/errors';
import { AppendTooLargeError, WrongExpectedRevisionError } from '../../infrastructure/eventstore/errors';

/**
 * The one mapping from thrown errors to HTTP status and error body. The body is a superset of
 * both contracts: LapXcel reads `detail`/`status_code`/`error_type`, RL-Arena reads
 * `error`/`code`/`details`.
 */
export const ErrorBodySchema = z.object({
  detail: z.string().describe('Human-readable message (LapXcel)'),
  status_code: z.number().int().describe('HTTP status, repeated in the body (LapXcel)'),
  error_type: z.string().describe('Error class, e.g. ValidationError (LapXcel)'),
  error: z.string().describe('Human-readable message, same as detail (RL-Arena)'),
  code: z.string().describe('Stable machine-readable code, e.g. VALIDATION_ERROR (RL-Arena)'),
  details: z.record(z.string(), z.unknown()).describe('Additional context; {} when none (RL-Arena)'),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** False for errors nobody anticipated (500): the caller logs them with their stack. */
  expected: boolean;
}

type AppErrorClass = abstract new (...args: never[]) => AppError;

/** Order matters only if a subclass of one of these is ever added: list it before its parent. */
const STATUS_BY_ERROR_CLASS: ReadonlyArray<readonly [AppErrorClass, number]> = [
  [ValidationError, 400],
  [InvalidStateError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [MethodNotAllowedError, 405],
  [RequestTimeoutError, 408],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnprocessableError, 422],
  [RateLimitedError, 429],
  [HeaderFieldsTooLargeError, 431],
  [UnavailableError, 503],
];

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

export function statusForAppError(error: AppError): number | undefined {
  return STATUS_BY_ERROR_CLASS.find(([errorClass]) => error instanceof errorClass)?.[1];
}

export function errorBody(status: number, errorType: string, code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { detail: message, status_code: status, error_type: errorType, error: message, code, details: details ?? {} };
}

export function mapError(error: unknown, requestId: string): MappedError {
  const translated = error instanceof AppError ? error : translateInfrastructureError(error);
  if (translated instanceof AppError) {
    const status = statusForAppError(translated);
    if (status !== undefined) {
      return {
        status,
        body: errorBody(status, translated.name, translated.code, translated.message, translated.details),
        expected: true,
      };
    }
  }
  if (error instanceof WrongExpectedRevisionError) {
    // The message names stream ids and revisions: internal detail the client cannot act on.
    return {
      status: 409,
      body: errorBody(409, 'ConflictError', 'CONCURRENT_MODIFICATION', 'The resource was modified by another request; retry'),
      expected: true,
    };
  }
  if (error instanceof AppendTooLargeError) {
    // The event store's write limit (EventStoreDB: MaxAppendSize); stream names stay internal.
    const details = error.maxAppendSizeBytes === undefined ? undefined : { max_append_bytes: error.maxAppendSizeBytes };
    return {
      status: 413,
      body: errorBody(413, 'PayloadTooLargeError', 'PAYLOAD_TOO_LARGE', 'The data is too large for the event store to record in one write; send it in smaller parts', details),
      expected: true,
    };
  }
  // The request id lets support find the logged stack; the message itself may hold internals.
  return {
    status: 500,
    body: errorBody(500, 'InternalServerError', 'INTERNAL_ERROR', INTERNAL_ERROR_MESSAGE, { request_id: requestId }),
    expected: false,
  };
}

/**
 * Errors raised by body-parser and the router (http-errors with `type`/`status`/`expose`) become
 * AppErrors. Their own messages can quote the request body, so only fixed messages go out.
 */
function translateInfrastructureError(error: unknown): AppError | undefined {
  if (!(error instanceof Error)) return undefined;
  const type = 'type' in error && typeof error.type === 'string' ? error.type : undefined;
  const status = 'status' in error && typeof error.status === 'number' ? error.status : undefined;
  // http-errors marks client errors expose: true; the router's URIError carries only a status.
  const exposable = !('expose' in error) || error.expose !== false;
  switch (type) {
    case 'entity.parse.failed':
      return new ValidationError('Malformed JSON in request body');
    case 'entity.too.large': {
      const limitBytes = 'limit' in error && typeof error.limit === 'number' ? error.limit : undefined;
      return new PayloadTooLargeError(
        limitBytes === undefined ? 'Request body is too large' : `Request body exceeds the limit of ${limitBytes} bytes`,
        limitBytes === undefined ? undefined : { limit_bytes: limitBytes },
      );
    }
    case 'encoding.unsupported':
      return new ValidationError('Unsupported Content-Encoding');
    case 'charset.unsupported':
      return new ValidationError('Unsupported charset in Content-Type');
    case 'request.aborted':
    case 'request.size.invalid':
      return new ValidationError('Request body was incomplete');
    default:
      break;
  }
  if (status === undefined || !exposable || status < 400 || status >= 500) return undefined;
  if (status === 404) return new NotFoundError('Not found');
  if (status === 413) return new PayloadTooLargeError('Request body is too large');
  // e.g. the router's "Failed to decode param": the client sent something unparsable.
  return new ValidationError('Bad request');
}
