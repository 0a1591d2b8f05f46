/**
 * IMAP benchmark: the gateway's initial sync and new-mail latency against a private local Dovecot.
 *
 *   node --import tsx bench/imap/run.ts [--count 10000] [--latency 200] [--interval 150] [--seed 1]
 *                                       [--only sqlite|mysql] [--skip-build] [--cpu-prof] [--stages]
 *
 * 1. Initial sync: N generated messages (bench/generate.ts) are APPENDed once to a private Dovecot.
 *    Bare baseline: one imapflow connection fetching every full source and parsing each with
 *    simpleParser, one after another (a pass before and one after the gateway runs; their mean).
 *    Gateway: `node bin/draftgate.js start --roles ingest` against a fresh database, timed from spawn
 *    until `messages` holds N rows. Goal (from the issue): gateway time ≤ 1.3 × bare time.
 * 2. New-mail latency: with that gateway synced and idle, M more messages are APPENDed one by one (one
 *    every --interval ms, each with its own Subject and Message-ID); for each, the time from just
 *    before its APPEND until its row is visible in the database. Goals: p50 ≤ 300 ms, p99 ≤ 1 s.
 *
 * A MISS still exits 0 (this is a measurement, not a test); errors exit 1. Dovecot, the gateway and the
 * databases are stopped and removed at the end, also on errors and on Ctrl-C.
 */
import { spawnSync, type ChildProcessByStdio } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { ImapFlow } from "imapflow";
import { simpleParser } from "mailparser";
import { startDovecot, type Dovecot } from "../../spec/support/dovecot.js";
import { Cleanups } from "../support/cleanup.js";
import { benchVoice, CORPUS_BENCH_USAGE, corpusBenchArgs, corpusBenchOptions, intArg, parseBenchArgs } from "../support/cli.js";
import { describeCorpus, loadCorpus } from "../support/corpus.js";
import { checkMysqlReachable, DIALECT_LABEL as LABEL, freshDatabase, sqliteFile, type Dialect, type FreshDatabase } from "../support/db.js";
import { build, latestCpuProfile, printCpuProfile, spawnDraftgate } from "../support/gateway.js";
import { errorText, fmt, machine, table, wrapText } from "../support/report.js";
import { secondsSince as seconds, sleep, timeLoop, timeNormalize } from "../support/timing.js";
import { mysqlWatcher, sqliteWatcher, type RowWatcher } from "./rows.js";

const GOAL_SYNC_RATIO = 1.3; // gateway time ≤ 1.3 × bare time
const GOAL_P50_MS = 300;
const GOAL_P99_MS = 1000;
const IDLE_BEFORE_LATENCY_MS = 2000;
const SYNC_POLL_MS = 100;
const LATENCY_POLL_MS = 10;
/** The sync is declared stuck when the row count does not move for this long. */
const STALL_MS = 120_000;
/** A latency message not seen this long after its APPEND is an error. */
const LATENCY_TIMEOUT_MS = 30_000;
/** The gateway's default imap.batchSize (the benchmark's config leaves it unset). */
const IMAP_BATCH_SIZE = 50;
const USER = "support";
const PASSWORD = "secret";

const voice = benchVoice("bench:imap");
const { log, fail } = voice;

const args = parseBenchArgs(
  voice,
  {
    ...corpusBenchOptions(10_000),
    latency: { type: "string", default: "200" },
    interval: { type: "string", default: "150" },
  },
  "usage: node --import tsx bench/imap/run.ts [--count N] [--latency M] [--interval MS] [--seed S] [--only sqlite|mysql] [--skip-build] [--cpu-prof] [--stages]\n" +
    "  --count N       messages in the mailbox for the initial sync (default 10000)\n" +
    "  --latency M     messages appended one by one to the idle gateway (default 200; 0 skips the latency part)\n" +
    "  --interval MS   time between the starts of two latency APPENDs (default 150)\n" +
    "  --only D        run only the sqlite or only the mysql (MariaDB) gateway (default: both)\n" +
    "  --cpu-prof      run the gateway under node --cpu-prof and print its hottest functions;\n" +
    "                  profiling slows it, so the sync ratio of such a run is not comparable\n" +
    "  --stages        also time the parts in this process: IMAP fetch alone (one FETCH 1:*, and the gateway's\n" +
    "                  pattern: sizes then sources per imap.batchSize UIDs), simpleParser and normalizeMime in memory\n" +
    CORPUS_BENCH_USAGE,
);

const { count, seed, dialects } = corpusBenchArgs(voice, args);
const latencyCount = intArg(voice, "latency", args.latency, 0);
const interval = Number(args.interval);
if (!Number.isFinite(interval) || interval < 0) fail(`--interval must be a non-negative number of ms (got ${args.interval})`);

// ---------------------------------------------------------------------------------------------------
// Clean-up: everything started here is registered and undone in reverse order, at the end, on errors
// and on Ctrl-C.

const cleanups = new Cleanups(log);
const onCleanup = (name: string, fn: () => Promise<void>) => cleanups.add(name, fn);
const cleanupAll = () => cleanups.runAll();
cleanups.exitOnSignal("interrupted; stopping the gateway and Dovecot …");

// ---------------------------------------------------------------------------------------------------

/** A watcher on the `messages` table of a gateway's database, from outside the gateway. */
function watch(db: FreshDatabase): Promise<RowWatcher> {
  return db.dialect === "sqlite" ? Promise.resolve(sqliteWatcher(sqliteFile(db))) : mysqlWatcher(db.url);
}

function configYaml(dovecot: Dovecot): string {
  return [
    "mailboxes:",
    "  - name: support",
    "    address: support@example.com",
    `    imap: { host: ${dovecot.host}, port: ${dovecot.port}, secure: false, user: ${USER}, password: ${PASSWORD}, folders: [INBOX] }`,
    "imap: { initialSync: all, pollSeconds: 3600 }",
    "",
  ].join("\n");
}

/** `draftgate start --roles ingest` as a child process. */
class Gateway {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  output = "";
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;

  constructor(databaseUrl: string, configFile: string, profileDir: string | null) {
    this.child = spawnDraftgate(["start", "--roles", "ingest"], { DATABASE_URL: databaseUrl, DRAFTGATE_CONFIG: configFile }, profileDir);
    const keep = (c: string) => {
      this.output = (this.output + c).slice(-20_000);
    };
    this.child.stdout.setEncoding("utf8").on("data", keep);
    this.child.stderr.setEncoding("utf8").on("data", keep);
    this.exited = new Promise((resolvePromise) => {
      this.child.once("error", (err) => {
        keep(`\n[spawn error] ${err.message}\n`);
        this.exit ??= { code: null, signal: null };
        resolvePromise();
      });
      this.child.once("close", (code, signal) => {
        this.exit = { code, signal };
        resolvePromise();
      });
    });
  }

  get running(): boolean {
    return this.exit === null;
  }

  describeExit(): string {
    return this.exit?.signal ? `signal ${this.exit.signal}` : `exit ${this.exit?.code}`;
  }

  tail(): string {
    return this.output.trim().split("\n").slice(-30).join("\n") || "(no output)";
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
    if (!this.running) return { ...this.exit!, killed: false };
    this.child.kill("SIGTERM");
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
    if ((await Promise.race([this.exited.then(() => "exited" as const), timer])) === "timeout") {
      this.child.kill("SIGKILL");
      await this.exited;
      return { ...this.exit!, killed: true };
    }
    return { ...this.exit!, killed: false };
  }
}

/** The gateway's log lines grouped by level and message, with counts (non-JSON lines as they are). */
function summarizeOutput(output: string): string {
  const counts = new Map<string, number>();
  for (const line of output.split("\n")) {
    if (!line.trim()) continue;
    let key = line.slice(0, 300);
    try {
      const o = JSON.parse(line) as { level?: number; msg?: string; component?: string };
      key = `[${o.level ?? "?"}] ${o.component ? `${o.component}: ` : ""}${o.msg ?? line.slice(0, 200)}`;
    } catch {
      // not JSON: keep the line
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `  ${n} × ${k}`).join("\n");
}

// ---------------------------------------------------------------------------------------------------
// The bare baseline

/** A connected imapflow client (no logging) as the benchmark's user, logged out after `fn`. */
async function withClient<T>(dovecot: Dovecot, fn: (client: ImapFlow) => Promise<T>, options: { disableAutoIdle?: boolean } = {}): Promise<T> {
  const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false, ...options });
  client.on("error", () => undefined); // failures surface through the awaited calls
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * One FETCH 1:* of every full source over one connection, timed from connect to the last message: with
 * `parse`, each source through simpleParser in turn (the bare baseline); without, the fetch alone.
 */
async function fetchAll(dovecot: Dovecot, expected: number, parse: boolean): Promise<number> {
  const started = performance.now();
  const n = await withClient(dovecot, async (client) => {
    let seen = 0;
    await client.mailboxOpen("INBOX");
    for await (const m of client.fetch("1:*", { uid: true, source: true })) {
      if (parse) await simpleParser(m.source!);
      if (m.source) seen++;
    }
    return seen;
  });
  const elapsed = seconds(started);
  if (n !== expected) throw new Error(`${parse ? "bare " : ""}fetch saw ${n} messages, expected ${expected}`);
  return elapsed;
}

const bareSync = (dovecot: Dovecot, expected: number) => fetchAll(dovecot, expected, true);

/**
 * IMAP fetch without parsing, in the gateway's pattern (src/ingest/imap/fetch.ts): UID SEARCH, then per
 * `batchSize` UIDs a FETCH of the sizes and a FETCH of the sources (with INTERNALDATE).
 */
async function fetchBatchedOnly(dovecot: Dovecot, expected: number, batchSize: number): Promise<number> {
  const started = performance.now();
  const n = await withClient(dovecot, async (client) => {
    let seen = 0;
    await client.mailboxOpen("INBOX", { readOnly: true });
    const uids = ((await client.search({ uid: "1:*" }, { uid: true })) || []).sort((a, b) => a - b);
    for (let i = 0; i < uids.length; i += batchSize) {
      const batch = uids.slice(i, i + batchSize).join(",");
      for await (const m of client.fetch(batch, { uid: true, size: true }, { uid: true })) void m.size;
      for await (const m of client.fetch(batch, { uid: true, source: true, internalDate: true }, { uid: true })) if (m.source) seen++;
    }
    return seen;
  });
  const elapsed = seconds(started);
  if (n !== expected) throw new Error(`batched fetch saw ${n} messages, expected ${expected}`);
  return elapsed;
}

// ---------------------------------------------------------------------------------------------------
// Latency messages: corpus messages with a fresh identity (own Subject, Message-ID and Date; no
// In-Reply-To/References, so each starts its own conversation).

function withFreshIdentity(raw: Buffer, subject: string, messageId: string): Buffer {
  const text = raw.toString("latin1"); // byte-preserving
  const nl = text.includes("\r\n") ? "\r\n" : "\n";
  const end = text.indexOf(nl + nl);
  const head = end >= 0 ? text.slice(0, end) : text;
  const rest = end >= 0 ? text.slice(end) : nl + nl;
  const kept: string[] = [];
  let skipping = false;
  for (const line of head.split(nl)) {
    if (/^[ \t]/.test(line)) {
      if (!skipping) kept.push(line);
      continue;
    }
    skipping = /^(subject|message-id|in-reply-to|references|date)\s*:/i.test(line);
    if (!skipping) kept.push(line);
  }
  const fresh = [`Subject: ${subject}`, `Message-ID: <${messageId}>`, `Date: ${new Date().toUTCString()}`];
  return Buffer.from([...fresh, ...kept].join(nl) + rest, "latin1");
}

interface LatencyResult {
  ms: number[];
  appendMs: number[];
  uids: number[];
}

/** Follows new rows in `messages` and notes, for each Message-ID in `sentAt`, how long after it its row appeared. */
async function watchArrivals(watcher: RowWatcher, sentAt: ReadonlyMap<string, number>) {
  const latencies = new Map<string, number>();
  let lastId = await watcher.maxId();
  let polling = true;
  let error: Error | null = null;
  const poller = (async () => {
    while (polling) {
      try {
        const rows = await watcher.rowsAfter(lastId);
        const seen = performance.now();
        for (const r of rows) {
          lastId = Math.max(lastId, r.id);
          const t0 = r.messageId ? sentAt.get(r.messageId) : undefined;
          if (t0 !== undefined && !latencies.has(r.messageId!)) latencies.set(r.messageId!, seen - t0);
        }
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
        return;
      }
      await sleep(LATENCY_POLL_MS);
    }
  })();
  return {
    latencies,
    /** Throws what the polling ran into, if anything. */
    check(): void {
      if (error) throw error;
    },
    async stop(): Promise<void> {
      polling = false;
      await poller;
    },
  };
}

async function measureLatency(dovecot: Dovecot, watcher: RowWatcher, corpus: Buffer[], n: number, tag: string): Promise<LatencyResult> {
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const messages = Array.from({ length: n }, (_, i) => {
    const messageId = `dg-bench-latency-${runId}-${i + 1}@bench.example`;
    return { messageId, raw: withFreshIdentity(corpus[i % corpus.length]!, `Latency probe ${i + 1}/${n} (${tag} ${runId})`, messageId) };
  });

  const sentAt = new Map<string, number>();
  const appendMs: number[] = [];
  const uids: number[] = [];
  const arrivals = await watchArrivals(watcher, sentAt);
  try {
    await withClient(
      dovecot,
      async (appender) => {
        const start = performance.now();
        for (let i = 0; i < n; i++) {
          const due = start + i * interval;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
          const m = messages[i]!;
          const t0 = performance.now();
          sentAt.set(m.messageId, t0);
          const res = await appender.append("INBOX", m.raw);
          appendMs.push(performance.now() - t0);
          if (!res || typeof res.uid !== "number") throw new Error(`APPEND of latency message ${i + 1} returned no APPENDUID`);
          uids.push(res.uid);
          arrivals.check();
        }
        const deadline = performance.now() + LATENCY_TIMEOUT_MS;
        while (arrivals.latencies.size < n && performance.now() < deadline) {
          arrivals.check();
          await sleep(50);
        }
        arrivals.check();
        if (arrivals.latencies.size < n) {
          throw new Error(`${n - arrivals.latencies.size} of ${n} latency messages did not show up within ${LATENCY_TIMEOUT_MS / 1000} s of the last APPEND (quarantined: ${await watcher.quarantined()})`);
        }
      },
      { disableAutoIdle: true },
    );
  } finally {
    await arrivals.stop();
  }
  return { ms: messages.map((m) => arrivals.latencies.get(m.messageId)!), appendMs, uids };
}

/** Removes the given UIDs from INBOX (the latency messages), so the next gateway syncs the same N again. */
async function expunge(dovecot: Dovecot, uids: number[], expected: number): Promise<void> {
  await withClient(
    dovecot,
    async (client) => {
      await client.mailboxOpen("INBOX");
      if (uids.length > 0) await client.messageDelete(uids.join(","), { uid: true });
      const status = await client.status("INBOX", { messages: true });
      const held = status ? status.messages : undefined;
      if (held !== expected) throw new Error(`INBOX holds ${held} messages after removing the latency messages, expected ${expected}`);
    },
    { disableAutoIdle: true },
  );
}

// ---------------------------------------------------------------------------------------------------
// One gateway run: initial sync, then (idle) new-mail latency

interface GatewayRun {
  d: Dialect;
  syncSeconds: number;
  migratedAt: number | null;
  firstRowAt: number | null;
  latency: LatencyResult | null;
  stopSeconds: number;
  profile: string | null;
}

async function gatewayRun(d: Dialect, dovecot: Dovecot, corpus: Buffer[], workDir: string): Promise<GatewayRun> {
  const db = await freshDatabase(d, "dg_bench_imap");
  const undoDb = onCleanup(`${LABEL[d]} database`, () => db.drop());
  const configFile = join(workDir, "draftgate.yaml");
  writeFileSync(configFile, configYaml(dovecot));
  const profileDir = args["cpu-prof"] ? mkdtempSync(join(tmpdir(), `draftgate-bench-imap-prof-${d}-`)) : null;
  const watcher = await watch(db);
  const undoWatcher = onCleanup(`${LABEL[d]} watcher`, () => watcher.close());

  log(`${LABEL[d]}: gateway initial sync of ${count} messages …`);
  const started = performance.now();
  const gw = new Gateway(db.url, configFile, profileDir);
  const undoGw = onCleanup(`${LABEL[d]} gateway (pid ${gw.child.pid})`, async () => {
    const r = await gw.stop(10_000);
    if (r.killed) log(`${LABEL[d]} gateway did not stop on SIGTERM within 10 s; killed`);
  });

  let migratedAt: number | null = null;
  let firstRowAt: number | null = null;
  let last = -1;
  let lastChange = performance.now();
  let lastReport = performance.now();
  let syncSeconds: number;
  for (;;) {
    if (!gw.running) throw new Error(`the ${LABEL[d]} gateway ended (${gw.describeExit()}) during the initial sync:\n${gw.tail()}`);
    const n = await watcher.count();
    const now = performance.now();
    if (n !== null && migratedAt === null) migratedAt = (now - started) / 1000;
    if (n !== null && n > 0 && firstRowAt === null) firstRowAt = (now - started) / 1000;
    if (n !== null && n >= count) {
      syncSeconds = (now - started) / 1000;
      break;
    }
    if ((n ?? -1) !== last) {
      last = n ?? -1;
      lastChange = now;
    } else if (now - lastChange > STALL_MS) {
      throw new Error(`the ${LABEL[d]} gateway's sync stalled at ${n ?? "(no table)"} of ${count} rows for ${STALL_MS / 1000} s (quarantined: ${await watcher.quarantined()}):\n${gw.tail()}`);
    }
    if (now - lastReport > 10_000) {
      log(`${LABEL[d]}:   ${n ?? 0} / ${count} rows after ${((now - started) / 1000).toFixed(0)} s`);
      lastReport = now;
    }
    await sleep(SYNC_POLL_MS);
  }
  log(`${LABEL[d]}: synced in ${syncSeconds.toFixed(2)} s`);

  let latency: LatencyResult | null = null;
  if (latencyCount > 0) {
    await sleep(IDLE_BEFORE_LATENCY_MS);
    if (!gw.running) throw new Error(`the ${LABEL[d]} gateway ended (${gw.describeExit()}) after the sync:\n${gw.tail()}`);
    const extra = (await watcher.count()) ?? 0;
    if (extra !== count) throw new Error(`${LABEL[d]}: messages holds ${extra} rows after the sync, expected ${count}`);
    log(`${LABEL[d]}: new-mail latency, ${latencyCount} APPENDs one every ${interval} ms …`);
    latency = await measureLatency(dovecot, watcher, corpus, latencyCount, LABEL[d]);
    if (!gw.running) throw new Error(`the ${LABEL[d]} gateway ended (${gw.describeExit()}) during the latency test:\n${gw.tail()}`);
  }

  const stopStarted = performance.now();
  const stopped = await gw.stop();
  const stopSeconds = seconds(stopStarted);
  undoGw();
  if (stopped.killed) throw new Error(`the ${LABEL[d]} gateway did not exit within 30 s of SIGTERM; killed:\n${gw.tail()}`);
  if (stopped.code !== 0) throw new Error(`the ${LABEL[d]} gateway exited ${stopped.signal ?? stopped.code} on SIGTERM:\n${gw.tail()}`);
  const summary = summarizeOutput(gw.output);
  if (summary) log(`${LABEL[d]} gateway output (log level warn), by message:\n${summary}`);

  const total = (await watcher.count()) ?? 0;
  const quarantined = await watcher.quarantined();
  await watcher.close();
  undoWatcher();
  const expected = count + latencyCount;
  if (total !== expected || quarantined !== 0) throw new Error(`${LABEL[d]}: ${total} rows in messages at the end (expected ${expected}), ${quarantined} quarantined`);
  await db.drop();
  undoDb();

  if (latency) await expunge(dovecot, latency.uids, count);

  return { d, syncSeconds, migratedAt, firstRowAt, latency, stopSeconds, profile: latestCpuProfile(profileDir) };
}

// ---------------------------------------------------------------------------------------------------
// Report

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function dovecotVersion(): string {
  const r = spawnSync("dovecot", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split(" ")[0]! : "?";
}

async function main(): Promise<void> {
  await checkMysqlReachable(dialects);
  if (!args["skip-build"]) build(voice);
  const { manifest, buffers: corpus } = await loadCorpus(count, seed, log);

  const workDir = mkdtempSync(join(tmpdir(), "draftgate-bench-imap-work-"));
  onCleanup("work folder", async () => rmSync(workDir, { recursive: true, force: true }));

  log("starting Dovecot …");
  const dovecot = await startDovecot({ users: [{ user: USER, password: PASSWORD }] });
  onCleanup("Dovecot", () => dovecot.stop());
  log(`Dovecot on ${dovecot.host}:${dovecot.port}; APPENDing ${count} messages over one connection …`);
  const tAppend = performance.now();
  await dovecot.appendMany(USER, "INBOX", corpus);
  const appendSeconds = seconds(tAppend);
  log(`APPENDed ${count} messages in ${appendSeconds.toFixed(1)} s`);

  log("bare imapflow + simpleParser …");
  const bareBefore = await bareSync(dovecot, count);
  log(`  ${bareBefore.toFixed(2)} s`);

  const runs: GatewayRun[] = [];
  for (const d of dialects) runs.push(await gatewayRun(d, dovecot, corpus, workDir));

  log("bare imapflow + simpleParser again …");
  const bareAfter = await bareSync(dovecot, count);
  log(`  ${bareAfter.toFixed(2)} s`);
  const bare = (bareBefore + bareAfter) / 2;

  let stages: { fetchAll: number; fetchBatched: number; simpleParser: number; normalizeMime: number } | null = null;
  if (args.stages) {
    log("stages: IMAP fetch alone (FETCH 1:*) …");
    const fetchAllSeconds = await fetchAll(dovecot, count, false);
    log(`stages: IMAP fetch alone, batches of ${IMAP_BATCH_SIZE} (sizes, then sources) …`);
    const fetchBatched = await fetchBatchedOnly(dovecot, count, IMAP_BATCH_SIZE);
    log("stages: simpleParser in memory …");
    const simple = await timeLoop(corpus, (b) => simpleParser(b));
    log("stages: normalizeMime in memory …");
    const normalize = await timeNormalize(corpus);
    stages = { fetchAll: fetchAllSeconds, fetchBatched, simpleParser: simple, normalizeMime: normalize };
  }

  await cleanupAll();

  const out: string[] = [];
  out.push(`Draftgate IMAP benchmark: ${describeCorpus(manifest)}`);
  out.push(
    `${machine()}, Dovecot ${dovecotVersion()} on 127.0.0.1 (maildir, plain IMAP); ` +
      `APPEND of the ${count} messages over one connection: ${appendSeconds.toFixed(1)} s (${fmt.rate(count / appendSeconds)})` +
      (args["cpu-prof"] ? "  [--cpu-prof: gateway times include profiler overhead]" : ""),
  );
  out.push("");
  out.push(`Initial sync of ${count} messages`);
  const rows: string[][] = [["", "time", "rate", "× bare", "goal", "result"]];
  rows.push(["bare imapflow fetch + simpleParser", fmt.s(bare), fmt.rate(count / bare), "1.00", "", ""]);
  rows.push(["  before / after the gateway runs", `${fmt.s(bareBefore)} / ${fmt.s(bareAfter)}`, "", "", "", ""]);
  const verdicts: string[] = [];
  for (const r of runs) {
    const ratio = r.syncSeconds / bare;
    const pass = ratio <= GOAL_SYNC_RATIO;
    rows.push([`${LABEL[r.d]} gateway (spawn → ${count} rows)`, fmt.s(r.syncSeconds), fmt.rate(count / r.syncSeconds), ratio.toFixed(2), `≤ ${GOAL_SYNC_RATIO.toFixed(2)}`, pass ? "PASS" : "MISS"]);
    if (r.migratedAt !== null) {
      const net = r.syncSeconds - r.migratedAt;
      rows.push([`  excl. start-up + migrations (${fmt.s(r.migratedAt)})`, fmt.s(net), fmt.rate(count / net), (net / bare).toFixed(2), "", net / bare <= GOAL_SYNC_RATIO ? "(pass)" : "(miss)"]);
    }
    if (r.firstRowAt !== null) rows.push([`  first row after`, fmt.s(r.firstRowAt), "", "", "", ""]);
    verdicts.push(`${LABEL[r.d]}: initial sync ${fmt.s(r.syncSeconds)} = ${ratio.toFixed(2)} × bare (goal ≤ ${GOAL_SYNC_RATIO}) → ${pass ? "PASS" : "MISS"}`);
  }
  if (stages) {
    const st = (label: string, s: number) => rows.push([label, fmt.s(s), fmt.rate(count / s), (s / bare).toFixed(2), "", ""]);
    st("stage: IMAP fetch alone, FETCH 1:*", stages.fetchAll);
    st(`stage: IMAP fetch alone, per ${IMAP_BATCH_SIZE} UIDs`, stages.fetchBatched);
    st("stage: simpleParser in memory", stages.simpleParser);
    st("stage: normalizeMime in memory", stages.normalizeMime);
  }
  out.push(table(rows));

  const withLatency = runs.filter((r) => r.latency);
  if (withLatency.length > 0) {
    out.push("");
    out.push(`New-mail latency: ${latencyCount} messages APPENDed one every ${interval} ms to the idle gateway; APPEND start → row visible in the database`);
    const lrows: string[][] = [["", "min", "p50", "p90", "p99", "max", "mean", "APPEND p50", `p50 ≤ ${GOAL_P50_MS} ms`, `p99 ≤ ${GOAL_P99_MS} ms`]];
    for (const r of withLatency) {
      const s = [...r.latency!.ms].sort((a, b) => a - b);
      const a = [...r.latency!.appendMs].sort((x, y) => x - y);
      const p50 = percentile(s, 50);
      const p99 = percentile(s, 99);
      const mean = s.reduce((x, y) => x + y, 0) / s.length;
      lrows.push([
        `${LABEL[r.d]} gateway`,
        fmt.ms(s[0]!),
        fmt.ms(p50),
        fmt.ms(percentile(s, 90)),
        fmt.ms(p99),
        fmt.ms(s[s.length - 1]!),
        fmt.ms(mean),
        fmt.ms(percentile(a, 50)),
        p50 <= GOAL_P50_MS ? "PASS" : "MISS",
        p99 <= GOAL_P99_MS ? "PASS" : "MISS",
      ]);
      verdicts.push(
        `${LABEL[r.d]}: new-mail latency p50 ${fmt.ms(p50)} (goal ≤ ${GOAL_P50_MS}) → ${p50 <= GOAL_P50_MS ? "PASS" : "MISS"}, ` +
          `p99 ${fmt.ms(p99)} (goal ≤ ${GOAL_P99_MS}) → ${p99 <= GOAL_P99_MS ? "PASS" : "MISS"}`,
      );
    }
    out.push(table(lrows));
  }
  out.push("");
  out.push(
    ...wrapText(
      "Bare baseline: one imapflow connection, SELECT INBOX, FETCH 1:* (UID BODY.PEEK[]), simpleParser on each source in turn, " +
        "timed from connect to the last parse; the mean of a pass before and a pass after the gateway runs. " +
        "Gateway: `node bin/draftgate.js start --roles ingest` (imap.initialSync all) against a fresh database, timed from spawn until " +
        `the messages table holds ${count} rows (polled every ${SYNC_POLL_MS} ms), so it includes process start-up and migrations. ` +
        `Latency: measured ${IDLE_BEFORE_LATENCY_MS / 1000} s after the sync, by polling the messages table every ${LATENCY_POLL_MS} ms for each message's Message-ID; ` +
        "percentiles are nearest-rank." +
        (stages
          ? " Stages (--stages), in this process, one after another, nothing else running: IMAP fetch without parsing, once as one FETCH 1:* and once in the gateway's pattern (UID SEARCH, then per " +
            `${IMAP_BATCH_SIZE} UIDs a FETCH of RFC822.SIZE and a FETCH of BODY.PEEK[] + INTERNALDATE); simpleParser and the gateway's normalizeMime over the messages already in memory.`
          : ""),
      100,
    ),
  );
  out.push(...verdicts);
  process.stdout.write(out.join("\n") + "\n");

  for (const r of runs) if (r.profile) printCpuProfile(`${LABEL[r.d]} gateway`, r.profile);
}

await main()
  .catch(async (err: unknown) => {
    await cleanupAll();
    fail(errorText(err));
  })
  .then(() => cleanupAll());
