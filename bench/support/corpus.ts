/** The generated corpus (bench/generate.ts) as the import and IMAP benchmarks use it. */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ensureCorpus, type CorpusManifest } from "../generate.js";
import { repoRoot } from "./gateway.js";
import { secondsSince } from "./timing.js";

export interface Corpus {
  manifest: CorpusManifest;
  /** The folder of .eml files. */
  emlDir: string;
  /** Every message's file, in date order. */
  files: string[];
  /** Every message's bytes, read into memory. */
  buffers: Buffer[];
}

/** The corpus for (count, seed) under `.bench/`, generated on first use; says which. */
export async function loadCorpus(count: number, seed: number, log: (text: string) => void): Promise<Corpus> {
  const benchRoot = join(repoRoot, ".bench");
  mkdirSync(benchRoot, { recursive: true });
  const t0 = performance.now();
  const { dir, manifest, generated } = await ensureCorpus(benchRoot, count, seed);
  log(`${generated ? "generated" : "reusing"} corpus ${dir} (${count} messages, ${manifest.threads} threads${generated ? `, ${secondsSince(t0).toFixed(1)} s` : ""})`);
  const emlDir = join(dir, "eml");
  const files = manifest.files.map((f) => join(emlDir, f));
  return { manifest, emlDir, files, buffers: files.map((f) => readFileSync(f)) };
}

/** `N messages in T threads, S MB (min–max KB each; …), seed S` for a report's first line. */
export function describeCorpus(m: CorpusManifest): string {
  const l = m.languages;
  return (
    `${m.count} messages in ${m.threads} threads, ${(m.bytes / 1024 / 1024).toFixed(1)} MB ` +
    `(${(m.minBytes / 1024).toFixed(1)}–${(m.maxBytes / 1024).toFixed(1)} KB each; ${m.withHtml} with HTML, ` +
    `${m.withAttachments} with attachments; en ${l.en} / de ${l.de} / es ${l.es} / ja ${l.ja}), seed ${m.seed}`
  );
}
