/** A build's log: every step's output, kept to the last `maxChars` characters (what events carry). */
export class BuildLog {
  private text = '';
  private dropped = 0;

  constructor(private readonly maxChars = 64 * 1024) {}

  step(title: string): void {
    this.append(`==> ${title}\n`);
  }

  append(text: string): void {
    if (text.length === 0) return;
    this.text += text.endsWith('\n') ? text : `${text}\n`;
    if (this.text.length > this.maxChars) {
      const cut = this.text.length - this.maxChars;
      this.dropped += cut;
      this.text = this.text.slice(cut);
    }
  }

  toString(): string {
    return this.dropped > 0 ? `[... ${this.dropped} earlier characters of the log dropped ...]\n${this.text}` : this.text;
  }
}
