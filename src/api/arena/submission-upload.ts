import busboy from 'busboy';
import type { Request } from 'express';
import { z } from 'zod';
import { ValidationError } from '../../domain/shared/errors';

export interface SubmissionUpload {
  agentId: string;
  archive: Buffer;
}

const AgentId = z.uuid();

function invalid(message: string, fields: Record<string, string>, extra: Record<string, unknown> = {}): ValidationError {
  return new ValidationError(message, { location: 'body', fields, ...extra });
}

/**
 * Reads the multipart body of POST /submissions (`agent_id` field, `code` file) into memory with
 * hard limits: one file of at most `maxArchiveBytes` (past it: 400 `archive_too_large`, without
 * buffering the rest), a few small fields. The archive itself is validated afterwards.
 */
export function readSubmissionUpload(req: Request, limits: { maxArchiveBytes: number }): Promise<SubmissionUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: limits.maxArchiveBytes, fields: 8, fieldSize: 1024, parts: 10 },
      });
    } catch {
      reject(invalid('Expected a multipart/form-data body with agent_id and code (a ZIP file)', { body: 'must be multipart/form-data' }));
      return;
    }
    let agentId: string | undefined;
    let archive: Buffer | undefined;
    let failure: ValidationError | undefined;
    const fail = (error: ValidationError) => {
      failure ??= error;
    };

    parser.on('field', (name, value) => {
      if (name === 'agent_id') agentId = value.trim();
    });
    parser.on('file', (name, stream) => {
      if (name !== 'code') {
        fail(invalid(`Unexpected file field "${name}"; the ZIP goes in the "code" field`, { [name]: 'unexpected file field' }));
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        fail(
          invalid(
            `Invalid ZIP archive: the archive is larger than the limit of ${limits.maxArchiveBytes} bytes`,
            { code: 'archive too large' },
            { problem: 'archive_too_large', maxArchiveBytes: limits.maxArchiveBytes },
          ),
        );
        stream.resume();
      });
      stream.on('end', () => {
        if (!(stream as unknown as { truncated?: boolean }).truncated) archive = Buffer.concat(chunks);
      });
    });
    parser.on('filesLimit', () => fail(invalid('Only one file is accepted (the "code" field)', { code: 'only one file' })));
    parser.on('error', (error: Error) => reject(invalid(`Malformed multipart body: ${error.message}`, { body: 'malformed multipart body' })));
    parser.on('close', () => {
      if (failure) return reject(failure);
      const fields: Record<string, string> = {};
      if (agentId === undefined || agentId === '') fields.agent_id = 'Required';
      else if (!AgentId.safeParse(agentId).success) fields.agent_id = 'Invalid UUID';
      if (archive === undefined) fields.code = 'Required: a ZIP file';
      if (Object.keys(fields).length > 0 || agentId === undefined || archive === undefined) {
        return reject(invalid(`Invalid request body: ${Object.entries(fields).map(([field, problem]) => `${field}: ${problem}`).join(', ')}`, fields));
      }
      resolve({ agentId, archive });
    });
    req.pipe(parser);
  });
}
