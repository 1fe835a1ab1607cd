/**
 * The one error hierarchy of the system. Domain, command and API code throw these;
 * src/api/shared/error-mapping.ts is the one place that turns them into HTTP status codes and
 * the contract's error body.
 */

export type ErrorDetails = Record<string, unknown>;

export abstract class AppError extends Error {
  /** Stable machine-readable code, e.g. VALIDATION_ERROR (the RL-Arena `code`). */
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input is malformed or breaks a rule about its shape (400). */
export class ValidationError extends AppError {
  readonly code = 'VALIDATION_ERROR';
}

/** Input is well-formed but cannot be processed as asked (422). */
export class UnprocessableError extends AppError {
  readonly code = 'UNPROCESSABLE_ENTITY';
}

/** The request is valid but the resource is not in a state that allows it (400 in the contracts). */
export class InvalidStateError extends AppError {
  readonly code = 'INVALID_STATE';
}

export class UnauthorizedError extends AppError {
  readonly code = 'UNAUTHORIZED';
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
}

export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMIT_EXCEEDED';
}

export class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

/** A dependency (event store, bus, database) did not answer. */
export class UnavailableError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
}

/*
 * Transport errors: raised by the HTTP layer, not by the domain, but mapped in the same one place
 * so every answer carries the same error body.
 */

/** A known path asked with a method it does not serve (405 + `Allow`); `details.allowed` lists the methods. */
export class MethodNotAllowedError extends AppError {
  readonly code = 'METHOD_NOT_ALLOWED';
}

/** The request line plus headers exceed the server's header limit (431), raised before express. */
export class HeaderFieldsTooLargeError extends AppError {
  readonly code = 'HEADER_FIELDS_TOO_LARGE';
}

/** The client did not send a complete request in time (408), raised before express. */
export class RequestTimeoutError extends AppError {
  readonly code = 'REQUEST_TIMEOUT';
}
