/**
 * Import benchmark: `draftgate import` against bare `simpleParser` over the same messages, in one run.
 *
 *   npm run bench -- [--count 5000] [--seed 1] [--only sqlite|mysql] [--skip-build] [--cpu-prof] [--stages]
 *
 * Machines are noisy, so the result is a ratio: gateway import rate / bare parse rate, both measured
 * here, now. Goals (from the issue): ≥ 0.7 on SQLite, ≥ 0.5 on MariaDB. A MISS still exits 0 (this is a
 * measurement, not a test); errors (build failure, import failure, stored ≠ count) exit 1.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { simpleParser } from "mailparser";
import { createConnection } from "mysql2/promise";
import { summarizeCpuProfile } from "./cpuprofile.js";
import { ensureCorpus } from "./generate.js";
import type { ImportSummary } from "../src/cli/commands/import.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const GOALS = { sqlite: 0.7, mysql: 0.5 } as const;
type Dialect = keyof typeof GOALS;
const LABEL: Record<Dialect, string> = { sqlite: "SQLite", mysql: "MariaDB" };


interface ImportRun {
  seconds: number;
  summary: ImportSummary;
  profile: string | null;
}

const { values: args } = parseArgs({
  options: {
    count: { type: "string", default: "5000" },
    seed: { type: "string", default: "1" },
    only: { type: "string" },
    "skip-build": { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    stages: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

if (args.help) {
  process.stdout.write(
    "usage: npm run bench -- [--count N] [--seed S] [--only sqlite|mysql] [--skip-build] [--cpu-prof] [--stages]\n" +
      "  --count N       messages to generate and import (default 5000)\n" +
      "  --seed S        PRNG seed of the generated corpus (default 1)\n" +
      "  --only D        run only the sqlite or only the mysql (MariaDB) import\n" +
      "  --skip-build    do not run tsc before timing (dist/ must be current)\n" +
      "  --cpu-prof      also profile each full import (node --cpu-prof) and print its hottest functions;\n" +
      "                  profiling slows the import, so the rates of such a run are not comparable\n" +
      "  --stages        also time the gateway's parse step (normalizeMime) in process, without a database\n" +
      "  env BENCH_MYSQL_URL  server for the MariaDB run (default mysql://root@127.0.0.1:3306)\n",
  );
  process.exit(0);
}

const count = Number(args.count);
const seed = Number(args.seed);
if (!Number.isInteger(count) || count < 1) fail(`--count must be a positive integer (got ${args.count})`);
if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be a non-negative integer (got ${args.seed})`);
if (args.only !== undefined && args.only !== "sqlite" && args.only !== "mysql") fail(`--only must be sqlite or mysql (got ${args.only})`);
const dialects: Dialect[] = args.only ? [args.only as Dialect] : ["sqlite", "mysql"];
const mysqlServer = (process.env.BENCH_MYSQL_URL ?? process.env.DRAFTGATE_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306").replace(/\/$/, "");

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

// ---------------------------------------------------------------------------------------------------

function build(): void {
  log("building (tsc -p tsconfig.build.json) …");
  const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) fail(`build failed (tsc exit ${r.status}):\n${r.stdout}${r.stderr}`);
}

/** The child's environment: ours without any Draftgate settings, plus the run's. */
function childEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("DRAFTGATE_") && k !== "DATABASE_URL") env[k] = v;
  return { ...env, DATABASE_URL: databaseUrl, DRAFTGATE_LOG__LEVEL: "warn" };
}

/** Runs `node bin/draftgate.js import --mailbox bench --json PATH` and times it, wall clock. */
function runImport(path: string, databaseUrl: string, profileDir: string | null): Promise<ImportRun> {
  const nodeArgs = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
  const argv = [...nodeArgs, join(repoRoot, "bin", "draftgate.js"), "import", "--mailbox", "bench", "--json", path];
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, { cwd: repoRoot, env: childEnv(databaseUrl), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
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
      let profile: string | null = null;
      if (profileDir) {
        const f = readdirSync(profileDir).filter((n) => n.endsWith(".cpuprofile")).sort();
        profile = f.length ? join(profileDir, f[f.length - 1]!) : null;
      }
      resolvePromise({ seconds, summary, profile });
    });
  });
}

interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

function freshSqlite(): FreshDatabase {
  const dir = mkdtempSync(join(tmpdir(), "draftgate-bench-"));
  return { url: `sqlite:${join(dir, "bench.sqlite")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function freshMysql(): Promise<FreshDatabase> {
  const name = `dg_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let admin;
  try {
    admin = await createConnection(mysqlServer);
  } catch (err) {
    throw new Error(`cannot reach MariaDB at ${mysqlServer} (${(err as Error).message}); set BENCH_MYSQL_URL or use --only sqlite`);
  }
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  return {
    url: `${mysqlServer}/${name}`,
    drop: async () => {
      const c = await createConnection(mysqlServer);
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}

const fresh = (d: Dialect): Promise<FreshDatabase> => (d === "sqlite" ? Promise.resolve(freshSqlite()) : freshMysql());

/** Databases to drop if the run is interrupted (Ctrl-C) while they exist. */
const live = new Set<FreshDatabase>();
process.once("SIGINT", () => {
  log("interrupted; dropping the benchmark databases …");
  void Promise.allSettled([...live].map((db) => db.drop())).then(() => process.exit(130));
});

/** One import into a fresh database, checked: every message stored, nothing else. */
async function importInto(d: Dialect, path: string, expected: number, profileDir: string | null): Promise<ImportRun> {
  const db = await fresh(d);
  live.add(db);
  try {
    const run = await runImport(path, db.url, profileDir);
    const s = run.summary;
    if (s.stored !== expected || s.messages !== expected || s.errors !== 0) {
      throw new Error(`${LABEL[d]} import stored ${s.stored} of ${expected} messages: ${JSON.stringify(s)}`);
    }
    return run;
  } finally {
    live.delete(db);
    await db.drop();
  }
}

// ---------------------------------------------------------------------------------------------------

function wrapText(text: string, width: number): string[] {
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

/** Runs `fn` over every buffer in turn; returns the seconds the loop took. */
async function timeLoop(buffers: Buffer[], fn: (b: Buffer) => Promise<unknown>): Promise<number> {
  const t = performance.now();
  for (const b of buffers) await fn(b);
  return (performance.now() - t) / 1000;
}

const fmtRate = (r: number) => `${r.toFixed(1)} msg/s`;
const fmtS = (s: number) => `${s.toFixed(2)} s`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd()).join("\n");
}

async function main(): Promise<void> {
  if (dialects.includes("mysql")) await (await freshMysql()).drop(); // fail fast when MariaDB is unreachable
  if (!args["skip-build"]) build();

  const benchRoot = join(repoRoot, ".bench");
  mkdirSync(benchRoot, { recursive: true });
  const t0 = performance.now();
  const { dir, manifest, generated } = await ensureCorpus(benchRoot, count, seed);
  log(`${generated ? "generated" : "reusing"} corpus ${dir} (${count} messages, ${manifest.threads} threads${generated ? `, ${((performance.now() - t0) / 1000).toFixed(1)} s` : ""})`);
  const emlDir = join(dir, "eml");
  const files = manifest.files.map((f) => join(emlDir, f));

  // Bare baseline: the same bytes, already in memory, parsed one after another; only the loop is timed.
  // Measured before and after the imports; the baseline is the mean of the two, so a noisy spell on the
  // machine during one of them moves the ratio less.
  const buffers = files.map((f) => readFileSync(f));
  log("bare simpleParser …");
  const bareBefore = await timeLoop(buffers, (b) => simpleParser(b));

  let normalizeSeconds: number | null = null;
  if (args.stages) {
    log("normalizeMime in process …");
    const { normalizeMime } = await import("../src/ingest/normalize.js");
    normalizeSeconds = await timeLoop(buffers, (b) => normalizeMime(b));
  }

  const results: { d: Dialect; full: ImportRun; one: ImportRun; profile: string | null }[] = [];
  for (const d of dialects) {
    log(`${LABEL[d]}: start-up probe (1 message) …`);
    const one = await importInto(d, files[0]!, 1, null);
    log(`${LABEL[d]}: import of ${count} messages …`);
    let profileDir: string | null = null;
    if (args["cpu-prof"]) {
      profileDir = mkdtempSync(join(tmpdir(), `draftgate-bench-prof-${d}-`));
    }
    const full = await importInto(d, emlDir, count, profileDir);
    results.push({ d, full, one, profile: full.profile });
  }

  log("bare simpleParser again …");
  const bareAfter = await timeLoop(buffers, (b) => simpleParser(b));
  const bareSeconds = (bareBefore + bareAfter) / 2;
  const bareRate = count / bareSeconds;

  const mb = manifest.bytes / 1024 / 1024;
  const out: string[] = [];
  out.push(
    `Draftgate import benchmark: ${count} messages in ${manifest.threads} threads, ${mb.toFixed(1)} MB ` +
      `(${(manifest.minBytes / 1024).toFixed(1)}–${(manifest.maxBytes / 1024).toFixed(1)} KB each; ${manifest.withHtml} with HTML, ` +
      `${manifest.withAttachments} with attachments; en ${manifest.languages.en} / de ${manifest.languages.de} / es ${manifest.languages.es} / ja ${manifest.languages.ja}), seed ${seed}`,
  );
  out.push(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "?"})${args["cpu-prof"] ? "  [--cpu-prof: import rates include profiler overhead]" : ""}`);
  out.push("");
  const rows: string[][] = [["", "time", "rate", "ratio", "goal", "result"]];
  rows.push(["bare simpleParser (in memory)", fmtS(bareSeconds), fmtRate(bareRate), "1.00", "", ""]);
  rows.push(["  before / after the imports", `${fmtS(bareBefore)} / ${fmtS(bareAfter)}`, "", "", "", ""]);
  if (normalizeSeconds !== null) {
    const r = count / normalizeSeconds;
    rows.push(["normalizeMime in process (no DB)", fmtS(normalizeSeconds), fmtRate(r), (r / bareRate).toFixed(2), "", ""]);
  }
  const verdicts: string[] = [];
  for (const r of results) {
    const rate = count / r.full.seconds;
    const ratio = rate / bareRate;
    const goal = GOALS[r.d];
    const pass = ratio >= goal;
    rows.push([`${LABEL[r.d]} import (wall clock)`, fmtS(r.full.seconds), fmtRate(rate), ratio.toFixed(2), `≥ ${goal.toFixed(2)}`, pass ? "PASS" : "MISS"]);
    const net = r.full.seconds - r.one.seconds;
    if (net > 0) {
      const netRate = (count - 1) / net;
      rows.push([`  excl. start-up (${fmtS(r.one.seconds)})`, fmtS(net), fmtRate(netRate), (netRate / bareRate).toFixed(2), "", netRate / bareRate >= goal ? "(pass)" : "(miss)"]);
    }
    verdicts.push(`${LABEL[r.d]}: import ${fmtRate(rate)} = ${ratio.toFixed(2)} × bare parse (goal ≥ ${goal}) → ${pass ? "PASS" : "MISS"}`);
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

  for (const r of results) {
    if (!r.profile) continue;
    process.stdout.write(`\n${LABEL[r.d]} import, top 15 functions by self time (${r.profile}):\n`);
    process.stdout.write(summarizeCpuProfile(readFileSync(r.profile, "utf8"), 15, repoRoot) + "\n");
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? (process.env.BENCH_DEBUG ? (err.stack ?? err.message) : err.message) : String(err)));
