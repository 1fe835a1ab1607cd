import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../domain/shared/errors';
import { findUnstorableText } from './storable-text';

/** Where an input came from; named in the error so the client knows which part to fix. */
export type RequestPart = 'params' | 'query' | 'body';

const PART_LABEL: Record<RequestPart, string> = {
  params: 'path parameters',
  query: 'query parameters',
  body: 'request body',
};

/**
 * Field path -> first message, e.g. { email: 'Invalid email address', 'data_points.3.speed_kmh': 'Too big: …' }.
 * An issue about the whole part (e.g. a missing body) is keyed by the part's name.
 */
export function fieldsFromIssues(issues: readonly z.core.$ZodIssue[], part: RequestPart): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const path = issue.path.map((segment) => String(segment)).join('.');
    const key = path === '' ? part : path;
    // The first issue per field is the one to fix first; later ones are often consequences.
    if (!(key in fields)) fields[key] = issue.message;
  }
  return fields;
}

/**
 * Parses one request part with its schema; without a schema the handler gets `undefined`.
 * Every part first passes the shared text rule (`storable-text.ts`), whatever the route's schema says.
 */
export async function validateRequestPart(schema: z.ZodType | undefined, input: unknown, part: RequestPart): Promise<unknown> {
  if (schema === undefined) return undefined;
  const unstorable = findUnstorableText(input);
  if (unstorable !== undefined) {
    const field = unstorable.path === '' ? part : unstorable.path;
    throw new ValidationError(`Invalid ${PART_LABEL[part]}: ${field}: ${unstorable.message}`, {
      location: part,
      fields: { [field]: unstorable.message },
    });
  }
  const result = await parseSyncFirst(schema, input);
  if (result.success) return result.data;
  const fields = fieldsFromIssues(result.error.issues, part);
  const entries = Object.entries(fields);
  const [firstField, firstMessage] = entries[0] ?? [part, 'invalid'];
  const more = entries.length > 1 ? ` (and ${entries.length - 1} more)` : '';
  throw new ValidationError(`Invalid ${PART_LABEL[part]}: ${firstField}: ${firstMessage}${more}`, { location: part, fields });
}

/**
 * Parses synchronously (a few hundred ns for a query string) and only a schema that turns out to
 * need it (an async refinement: zod throws $ZodAsyncError) asynchronously, where every field costs a
 * promise (~20× the time). Same result either way.
 */
function parseSyncFirst(schema: z.ZodType, input: unknown): z.ZodSafeParseResult<unknown> | Promise<z.ZodSafeParseResult<unknown>> {
  try {
    return schema.safeParse(input);
  } catch (error) {
    if (error instanceof z.core.$ZodAsyncError) return schema.safeParseAsync(input);
    throw error;
  }
}

/**
 * Path parameters name a resource. One outside the format of this server's ids (the contracts'
 * own examples show ids like `match-abc123-def456`) names nothing that exists here: 404, as for an
 * unknown id, never 400. `details` still say which parameter and why, for whoever debugs it.
 */
export async function validatePathParameters(schema: z.ZodType | undefined, input: unknown, notFoundMessage: string): Promise<unknown> {
  try {
    return await validateRequestPart(schema, input, 'params');
  } catch (error) {
    if (error instanceof ValidationError) throw new NotFoundError(notFoundMessage, error.details);
    throw error;
  }
}
