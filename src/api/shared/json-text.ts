/** Express's ETag function (`app.get('etag fn')`): the validator of a body's bytes. */
export type ETagFunction = (body: Buffer, encoding?: BufferEncoding) => string | undefined;

/**
 * A route answer that is already JSON text (e.g. assembled from the cached JSON of each row), as
 * UTF-8 bytes. Sent exactly as `res.json` sends the value it stands for: same bytes, same headers.
 * An instance may be sent many times (a cached page): its bytes and ETag are computed once.
 */
export class JsonText {
  readonly bytes: Buffer;
  #etag: { of: ETagFunction; value: string | undefined } | undefined;

  constructor(text: string) {
    this.bytes = Buffer.from(text, 'utf8');
  }

  /** The ETag `etagOf` gives these bytes, computed once per function. */
  etag(etagOf: ETagFunction): string | undefined {
    if (this.#etag?.of !== etagOf) this.#etag = { of: etagOf, value: etagOf(this.bytes) };
    return this.#etag.value;
  }
}
