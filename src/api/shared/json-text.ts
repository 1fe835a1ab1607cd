/**
 * A route answer that is already JSON text (e.g. assembled from the cached JSON of each row).
 * Sent exactly as `res.json` sends the value it stands for: same bytes, same headers.
 */
export class JsonText {
  constructor(readonly text: string) {}
}
