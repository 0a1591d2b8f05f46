/**
 * Import benchmark: `draftgate import` against bare `simpleParser` over the same messages, in one run.
 *
 *   npm run bench -- [--count 5000] [--seed 1] [--only sqlite|mysql] [--skip-build] [--cpu-prof] [--stages]
 *
 * Machines are noisy, so the result is a ratio: gateway import rate / bare parse rate, both measured
 * here, now. Goals (from the issue): ≥ 0.7 on SQLite, ≥ 0.5 on MariaDB. A MISS still exits 0 (this is a
 * measurement, not a test); errors (build failure, import failure, stored ≠ count) exit 1.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { simpleParser } from "mailparser";
import type { ImportSummary } from "../../src/cli/commands/import.js";
import { Cleanups } from "../support/cleanup.js";
import { benchVoice, CORPUS_BENCH_USAGE, corpusBenchArgs, corpusBenchOptions, parseBenchArgs } from "../support/cli.js";
import { describeCorpus, loadCorpus } from "../support/corpus.js";
import { checkMysqlReachable, DIALECT_LABEL as LABEL, freshDatabase, type Dialect } from "../support/db.js";
import { build, latestCpuProfile, printCpuProfile, spawnDraftgate } from "../support/gateway.js";
import { errorText, fmt, machine, table, wrapText } from "../support/report.js";
import { secondsSince, timeLoop, timeNormalize } from "../support/timing.js";

const GOALS: Record<Dialect, number> = { sqlite: 0.7, mysql: 0.5 };

interface ImportRun {
  seconds: number;
  summary: ImportSummary;
  profile: string | null;
}

const voice = benchVoice("bench");
const { log, fail } = voice;

const args = parseBenchArgs(
  voice,
  corpusBenchOptions(5000),
  "usage: npm run bench -- [--count N] [--seed S] [--only sqlite|mysql] [--skip-build] [--cpu-prof] [--stages]\n" +
    "  --count N       messages to generate and import (default 5000)\n" +
    "  --only D        run only the sqlite or only the mysql (MariaDB) import\n" +
    "  --cpu-prof      also profile each full import (node --cpu-prof) and print its hottest functions;\n" +
    "                  profiling slows the import, so the rates of such a run are not comparable\n" +
    "  --stages        also time the gateway's parse step (normalizeMime) in process, without a database\n" +
    CORPUS_BENCH_USAGE,
);
const { count, seed, dialects } = corpusBenchArgs(voice, args);

const cleanups = new Cleanups(log);
cleanups.exitOnSignal("interrupted; dropping the benchmark databases …");

// ---------------------------------------------------------------------------------------------------

/** Runs `node bin/draftgate.js import --mailbox bench --json PATH` and times it, wall clock. */
function runImport(path: string, databaseUrl: string, profileDir: string | null): Promise<ImportRun> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawnDraftgate(["import", "--mailbox", "bench", "--json", path], { DATABASE_URL: databaseUrl }, profileDir);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const seconds = secondsSince(started);
      const last = stdout.trim().split("\n").pop() ?? "";
      let summary: ImportSummary | null = null;
      try {
        summary = JSON.parse(last) as ImportSummary;
      } catch {
        /* reported below */
      }
      if (code !== 0 || !summary) {
        reject(new Error(`draftgate import exited ${signal ?? code}${summary ? "" : " without a JSON summary"}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`));
        return;
      }
      if (stderr.trim()) log(`import wrote to stderr:\n${stderr.trim().slice(-2000)}`);
      resolvePromise({ seconds, summary, profile: latestCpuProfile(profileDir) });
    });
  });
}

/** One import into a fresh database, checked: every message stored, nothing else. */
async function importInto(d: Dialect, path: string, expected: number, profileDir: string | null): Promise<ImportRun> {
  const db = await freshDatabase(d, "dg_bench");
  const forget = cleanups.add(`${LABEL[d]} database`, () => db.drop());
  try {
    const run = await runImport(path, db.url, profileDir);
    const s = run.summary;
    if (s.stored !== expected || s.messages !== expected || s.errors !== 0) {
      throw new Error(`${LABEL[d]} import stored ${s.stored} of ${expected} messages: ${JSON.stringify(s)}`);
    }
    return run;
  } finally {
    forget();
    await db.drop();
  }
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  await checkMysqlReachable(dialects);
  if (!args["skip-build"]) build(voice);
  const { manifest, emlDir, files, buffers } = await loadCorpus(count, seed, log);

  // Bare baseline: the same bytes, already in memory, parsed one after another; only the loop is timed.
  // Measured before and after the imports; the baseline is the mean of the two, so a noisy spell on the
  // machine during one of them moves the ratio less.
  log("bare simpleParser …");
  const bareBefore = await timeLoop(buffers, (b) => simpleParser(b));

  let normalizeSeconds: number | null = null;
  if (args.stages) {
    log("normalizeMime in process …");
    normalizeSeconds = await timeNormalize(buffers);
  }

  const results: { d: Dialect; full: ImportRun; one: ImportRun; profile: string | null }[] = [];
  for (const d of dialects) {
    log(`${LABEL[d]}: start-up probe (1 message) …`);
    const one = await importInto(d, files[0]!, 1, null);
    log(`${LABEL[d]}: import of ${count} messages …`);
    const profileDir = args["cpu-prof"] ? mkdtempSync(join(tmpdir(), `draftgate-bench-prof-${d}-`)) : null;
    const full = await importInto(d, emlDir, count, profileDir);
    results.push({ d, full, one, profile: full.profile });
  }

  log("bare simpleParser again …");
  const bareAfter = await timeLoop(buffers, (b) => simpleParser(b));
  const bareSeconds = (bareBefore + bareAfter) / 2;
  const bareRate = count / bareSeconds;

  const out: string[] = [];
  out.push(`Draftgate import benchmark: ${describeCorpus(manifest)}`);
  out.push(`${machine()}${args["cpu-prof"] ? "  [--cpu-prof: import rates include profiler overhead]" : ""}`);
  out.push("");
  const rows: string[][] = [["", "time", "rate", "ratio", "goal", "result"]];
  rows.push(["bare simpleParser (in memory)", fmt.s(bareSeconds), fmt.rate(bareRate), "1.00", "", ""]);
  rows.push(["  before / after the imports", `${fmt.s(bareBefore)} / ${fmt.s(bareAfter)}`, "", "", "", ""]);
  if (normalizeSeconds !== null) {
    const r = count / normalizeSeconds;
    rows.push(["normalizeMime in process (no DB)", fmt.s(normalizeSeconds), fmt.rate(r), (r / bareRate).toFixed(2), "", ""]);
  }
  const verdicts: string[] = [];
  for (const r of results) {
    const rate = count / r.full.seconds;
    const ratio = rate / bareRate;
    const goal = GOALS[r.d];
    const pass = ratio >= goal;
    rows.push([`${LABEL[r.d]} import (wall clock)`, fmt.s(r.full.seconds), fmt.rate(rate), ratio.toFixed(2), `≥ ${goal.toFixed(2)}`, pass ? "PASS" : "MISS"]);
    const net = r.full.seconds - r.one.seconds;
    if (net > 0) {
      const netRate = (count - 1) / net;
      rows.push([`  excl. start-up (${fmt.s(r.one.seconds)})`, fmt.s(net), fmt.rate(netRate), (netRate / bareRate).toFixed(2), "", netRate / bareRate >= goal ? "(pass)" : "(miss)"]);
    }
    verdicts.push(`${LABEL[r.d]}: import ${fmt.rate(rate)} = ${ratio.toFixed(2)} × bare parse (goal ≥ ${goal}) → ${pass ? "PASS" : "MISS"}`);
  }
  out.push(table(rows));
  out.push("");
  out.push(
    ...wrapText(
      "Bare baseline: mailparser's simpleParser(bytes) with default options over the messages already in memory, one after " +
        "another; the rate is the mean of a pass before and a pass after the imports. " +
        "Import time is the wall clock of `node bin/draftgate.js import --mailbox bench --json <dir>` into a fresh database: " +
        "it includes process start-up, configuration, migrations and reading the files. \"excl. start-up\" subtracts the wall " +
        "clock of importing 1 message into another fresh database. The goal is judged on the wall-clock row." +
        (args.stages ? " normalizeMime: the gateway's own parse step (mailparser with its options, quote stripping, HTML sanitizing, hashing), in this process, no database." : ""),
      100,
    ),
  );
  out.push(...verdicts);
  process.stdout.write(out.join("\n") + "\n");

  for (const r of results) if (r.profile) printCpuProfile(`${LABEL[r.d]} import`, r.profile);
}

main().catch(async (err: unknown) => {
  await cleanups.runAll();
  fail(errorText(err));
});
