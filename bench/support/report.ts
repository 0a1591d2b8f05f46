/** Printing results: aligned tables, wrapped notes, number formats, the machine a run was on. */
import { cpus } from "node:os";

/** Rows as columns: the first left-aligned, the rest right-aligned; `rule` underlines the header row. */
export function table(rows: string[][], options: { rule?: boolean } = {}): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd());
  if (options.rule) lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines.join("\n");
}

/** `text` broken into lines of at most `width` characters, at spaces. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export const fmt = {
  s: (seconds: number) => `${seconds.toFixed(2)} s`,
  ms: (ms: number) => `${Math.round(ms)} ms`,
  ms1: (ms: number) => `${ms.toFixed(1)} ms`,
  rate: (perSecond: number) => `${perSecond.toFixed(1)} msg/s`,
  tps: (perSecond: number) => `${perSecond.toFixed(1)} tok/s`,
  pct: (ratio: number) => `${ratio >= 0 ? "+" : ""}${(ratio * 100).toFixed(1)} %`,
};

/** `node v20…, 2 CPUs (model)`. */
export function machine(): string {
  return `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "?"})`;
}

/** The message of an error that ends a run (its stack with BENCH_DEBUG set). */
export function errorText(err: unknown): string {
  return err instanceof Error ? (process.env.BENCH_DEBUG ? (err.stack ?? err.message) : err.message) : String(err);
}
