import { z } from 'zod';

/**
 * The one rule for text arriving at the edge: PostgreSQL's text and jsonb types reject NUL
 * (U+0000) and unpaired UTF-16 surrogates (JSON allows both, e.g. "\u0000" or "\ud800"). Such a
 * string reaching the store would fail there and answer 500; here it is a 400 naming the field.
 *
 * `validateRequestPart` applies `findUnstorableText` to every body, query and path part before the
 * route's own schema, so no route can forget it; `storableText` is the same rule as a zod schema
 * for places that build their own (e.g. WebSocket messages).
 */
export const UNSTORABLE_TEXT_MESSAGE = 'Text must not contain NUL (\\u0000) or unpaired UTF-16 surrogates';

const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  return !NUL_OR_LONE_SURROGATE.test(value);
}

export const storableText = z.string().refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

export interface UnstorableText {
  /** Dotted path of the field (a key's own path when the key itself is the bad text). */
  path: string;
  message: string;
}

interface Visit {
  value: unknown;
  segment: string;
  parent: Visit | undefined;
}

function pathOf(visit: Visit): string {
  const segments: string[] = [];
  for (let at: Visit | undefined = visit; at?.parent !== undefined; at = at.parent) segments.push(at.segment);
  return segments.reverse().join('.');
}

/** An unstorable key is named escaped (JSON.stringify escapes NUL and lone surrogates). */
const printableKey = (key: string): string => (isStorableText(key) ? key : JSON.stringify(key));

/**
 * The first string (value or object key) in `input` that breaks the rule, or undefined. Walks with
 * an explicit stack and parent links, not recursion or copied paths: a body nested 100 000 levels
 * deep must cost neither our stack nor quadratic memory.
 */
export function findUnstorableText(input: unknown): UnstorableText | undefined {
  const pending: Visit[] = [{ value: input, segment: '', parent: undefined }];
  // Keys repeat across the objects of an array (every point of a telemetry batch): checked once each.
  const storableKeys = new Set<string>();
  // Numbers, booleans and null hold no text: never pushed (a telemetry batch is mostly numbers).
  const holdsText = (item: unknown) => typeof item === 'string' || (item !== null && typeof item === 'object');
  while (pending.length > 0) {
    const visit = pending.pop() as Visit;
    const { value } = visit;
    if (typeof value === 'string') {
      if (!isStorableText(value)) return { path: pathOf(visit), message: UNSTORABLE_TEXT_MESSAGE };
    } else if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index += 1) {
        const item: unknown = value[index];
        if (holdsText(item)) pending.push({ value: item, segment: String(index), parent: visit });
      }
    } else if (value !== null && typeof value === 'object') {
      // for…in over own keys, not Object.entries: no pair arrays per key (a 2 000-point upload
      // allocated 3 MB of them, a fifth of everything the upload allocated).
      const fields = value as Record<string, unknown>;
      for (const key in fields) {
        if (!Object.hasOwn(fields, key)) continue;
        const item = fields[key];
        if (!storableKeys.has(key)) {
          if (!isStorableText(key)) return { path: pathOf({ value: item, segment: printableKey(key), parent: visit }), message: UNSTORABLE_TEXT_MESSAGE };
          storableKeys.add(key);
        }
        if (holdsText(item)) pending.push({ value: item, segment: key, parent: visit });
      }
    }
  }
  return undefined;
}
