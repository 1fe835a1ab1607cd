/**
 * The request and response examples of the two API documents (`lapxcel-api.md`, `rl-arena-api.md`),
 * keyed by operation ("POST /auth/login") and by `request` or response status. They reach the
 * OpenAPI document as named media-type examples, so Swagger UI offers what each document shows.
 * Values are the documents' own; the one thing changed is `"elo_change": +15`, which is not JSON.
 * A test (test/e2e/openapi-statuses.test.ts) checks that each request example passes the route's
 * schema and that each response example names only fields the route's schema has.
 */
import { CONTRACT_TITLES, lapxcelExample as lapxcel, rlArenaExample as rlArena, type DocumentExample, type OperationExamples } from './document-example-types';
import { LAPXCEL_DOCUMENT_EXAMPLES } from './lapxcel-document-examples';
import { RL_ARENA_DOCUMENT_EXAMPLES } from './rl-arena-document-examples';

export type { DocumentExample, OperationExamples } from './document-example-types';

export const DOCUMENT_EXAMPLES: Record<string, OperationExamples> = { ...LAPXCEL_DOCUMENT_EXAMPLES, ...RL_ARENA_DOCUMENT_EXAMPLES };

/** The error body of each document (ours is a superset of both). */
export const ERROR_BODY_EXAMPLES: DocumentExample[] = [
  lapxcel({ detail: 'Error message description', status_code: 400, error_type: 'ValidationError' }),
  rlArena({ error: 'Error message', code: 'ERROR_CODE', details: { field: 'Additional error context' } }),
];

/** OpenAPI's named media-type examples: `{ "rl-arena": { summary, value } }`, numbered when one document has several. */
export function namedExamples(examples: readonly DocumentExample[]): Record<string, { summary: string; value: unknown }> {
  const named: Record<string, { summary: string; value: unknown }> = {};
  for (const example of examples) {
    let name: string = example.contract;
    for (let n = 2; name in named; n += 1) name = `${example.contract}-${n}`;
    named[name] = { summary: CONTRACT_TITLES[example.contract], value: example.value };
  }
  return named;
}
