import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, HeaderFieldsTooLargeError, RequestTimeoutError, ValidationError } from '../../domain/shared/errors';
import type { Logger } from '../../infrastructure/logging/logger';
import { mapError } from './error-mapping';

/**
 * Errors Node's HTTP parser raises before express sees a request (a 100 KB URL, a 70 KB header,
 * a malformed request line) would get Node's bare status line with no body. This answers them with
 * the contracts' error body instead, through the same mapping as every other error.
 */
export function appErrorForClientError(code: string | undefined): AppError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HeaderFieldsTooLargeError('Request line and headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestTimeoutError('The request did not arrive in time');
    default:
      return new ValidationError('Malformed HTTP request');
  }
}

export function answerClientErrors(server: Server, logger: Logger): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Nothing to answer on a socket the client already dropped, or one whose response has started.
    const responseInProgress = Reflect.get(socket, '_httpMessage') !== null && Reflect.get(socket, '_httpMessage') !== undefined;
    if (error.code === 'ECONNRESET' || !socket.writable || responseInProgress) {
      socket.destroy();
      return;
    }
    const requestId = randomUUID();
    const mapped = mapError(appErrorForClientError(error.code), requestId);
    logger.info({ requestId, code: error.code, status: mapped.status }, 'client error before routing');
    const payload = JSON.stringify(mapped.body);
    socket.end(
      `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status] ?? 'Error'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(payload)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        payload,
    );
  });
}
