/**
 * The text of a rendered page as a reader perceives it: runs of whitespace are one space, blocks start
 * on a new line, paragraphs are separated by one blank line, and nothing leads or doubles up.
 */

/** Accumulates rendered text: whitespace collapsed outside <pre>, at most one blank line between blocks. */
export class TextBuilder {
  private parts: string[] = [];
  private pendingBreaks = 0;
  private pendingSpace = false;
  private atLineStart = true;

  /** Adds text; inside <pre> (`pre`) its whitespace is kept as written. */
  text(s: string, pre: boolean): void {
    if (pre) {
      this.emitPending();
      const normalized = s.replace(/\r\n?/gu, "\n");
      this.parts.push(normalized);
      if (normalized) this.atLineStart = normalized.endsWith("\n");
      return;
    }
    const collapsed = s.replace(/[ \t\n\r\f]+/gu, " ").replace(/\u00a0/gu, " ");
    for (const [i, word] of collapsed.split(" ").entries()) {
      if (i > 0) this.pendingSpace = true;
      if (!word) continue;
      this.emitPending();
      this.parts.push(word);
      this.atLineStart = false;
    }
  }

  /** Separates what follows with a space (table cells), unless a line has just started. */
  space(): void {
    if (!this.atLineStart) this.pendingSpace = true;
  }

  /** Ends the line (1) or the paragraph (2) before the next text; never at the very start. */
  lineBreak(count: 1 | 2): void {
    if (this.parts.length === 0) return;
    this.pendingBreaks = Math.max(this.pendingBreaks, count);
    this.pendingSpace = false;
  }

  toString(): string {
    return this.parts.join("");
  }

  private emitPending(): void {
    if (this.pendingBreaks > 0) {
      this.parts.push("\n".repeat(this.atLineStart ? this.pendingBreaks - 1 : this.pendingBreaks));
      this.atLineStart = true;
    } else if (this.pendingSpace && !this.atLineStart) {
      this.parts.push(" ");
    }
    this.pendingBreaks = 0;
    this.pendingSpace = false;
  }
}
