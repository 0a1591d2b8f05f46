/**
 * Outbound benchmark: approved replies sent over SMTP by the gateway against bare nodemailer, in one run.
 *
 *   npm run bench:outbound -- [--count 2000] [--latency 200] [--interval 250] [--connections N] [--seed 1]
 *                             [--only sqlite|mysql] [--skip-build] [--cpu-prof]
 *
 * 1. Throughput. N customer messages (one conversation each) are ingested into a fresh database and a
 *    reply to each is approved through the real approval path (approveDraft), untimed. Bare baseline:
 *    nodemailer `createTransport({ pool: true, maxConnections: C })` and `sendMail` of the same replies
 *    (same From/To/Subject/threading headers/body), all at once. Gateway: `draftgate start --roles
 *    outbound` as a child process, whose job worker and Outbound service send the N queued replies.
 *    Both timed from the first SMTP connection until the N-th message is accepted, on the server's
 *    clock. Goal (from the issue): gateway rate ≥ 0.7 × bare rate.
 * 2. Latency. With that gateway idle, M more replies are approved one at a time (exponential gaps,
 *    mean --interval ms); each from its approval's commit until the SMTP server accepted it. Goal:
 *    p99 ≤ 1 s.
 *
 * The SMTP server (spec/support/smtp.ts's smtp-server peer: 127.0.0.1, port 0, no auth, no TLS, keeps no
 * bytes) runs in a worker thread (sink.ts). A MISS still exits 0; errors exit 1. The gateway, the server
 * and the databases are stopped and removed at the end, also on errors and on Ctrl-C.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { createTransport } from "nodemailer";
import { In } from "typeorm";
import { configSchema, type Config } from "../../src/config/schema.js";
import { intakeOptions } from "../../src/pipeline/intakeOptions.js";
import { Intake } from "../../src/pipeline/intake.js";
import type { OutboxRow } from "../../src/store/entities/review.js";
import type { JobRow } from "../../src/store/entities/work.js";
import { findMailbox } from "../../src/store/mailboxes.js";
import { outboxCounts, SEND_JOB } from "../../src/store/outbox.js";
import { AFTER_SEND_JOBS } from "../../src/store/outboxSend.js";
import { Harness } from "../../spec/integration/outbound/helpers.js";
import { mulberry32 } from "../generate.js";
import { Cleanups } from "../support/cleanup.js";
import { benchVoice, CORPUS_BENCH_USAGE, corpusBenchArgs, intArg, parseBenchArgs } from "../support/cli.js";
import { checkMysqlReachable, DIALECT_LABEL as LABEL, freshDatabase, type Dialect } from "../support/db.js";
import { build, latestCpuProfile, printCpuProfile, spawnDraftgate } from "../support/gateway.js";
import { errorText, fmt, machine, table, wrapText } from "../support/report.js";
import { sleep } from "../support/timing.js";
import { bareMessage, MAILBOX, replyCases, SIGNATURE, type ReplyCase } from "./replies.js";
import { clock, startSink, type Sink, type SinkStats } from "./sink.js";

const GOAL_RATIO = 0.7; // gateway rate ≥ 0.7 × bare rate
const GOAL_P99_MS = 1000;
/** A run whose accepted count (or open job count) does not move for this long is stuck: an error. */
const STALL_MS = 60_000;
const IDLE_BEFORE_LATENCY_MS = 1000;
const INGEST_BATCH = 100;

const voice = benchVoice("bench:outbound");
const { log, fail } = voice;

const args = parseBenchArgs(
  voice,
  {
    count: { type: "string", default: "2000" },
    latency: { type: "string", default: "200" },
    interval: { type: "string", default: "250" },
    connections: { type: "string" },
    seed: { type: "string", default: "1" },
    only: { type: "string" },
    "skip-build": { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
  },
  "usage: npm run bench:outbound -- [--count N] [--latency M] [--interval MS] [--connections C] [--seed S] [--only sqlite|mysql] [--skip-build] [--cpu-prof]\n" +
    [
      ["--count N", "approved replies sent by bare nodemailer and by the gateway (default 2000)"],
      ["--latency M", "replies then approved one at a time while the gateway idles (default 200; 0: none)"],
      ["--interval MS", "mean gap between two of those approvals, exponentially distributed (default 250)"],
      ["--connections C", "SMTP pool size of both senders: outbound.maxConnections (default: the gateway's default)"],
      ["--only D", "sqlite or mysql (MariaDB): one gateway run instead of both"],
      [
        "--cpu-prof",
        "profile the gateway (node --cpu-prof) and list its hot spots; the profiler slows it, so that run's ratio is not comparable",
      ],
    ]
      .map(([flag, text]) => `  ${flag!.padEnd(16)}${text}\n`)
      .join("") +
    CORPUS_BENCH_USAGE,
);
const { count, seed, dialects } = corpusBenchArgs(voice, args);
const latencyCount = intArg(voice, "latency", args.latency, 0);
const interval = intArg(voice, "interval", args.interval, 0);
const connectionsFlag = args.connections === undefined ? null : intArg(voice, "connections", args.connections, 1);

const cleanups = new Cleanups(log);
const onCleanup = (name: string, fn: () => Promise<void> | void) => cleanups.add(name, fn);
cleanups.exitOnSignal("interrupted; stopping the gateway and the SMTP server, dropping the databases …");
// What fails while the clean-up stops the server and the gateway under a running measurement is not news.
let interrupted = false;
process.once("SIGINT", () => (interrupted = true));

const seconds = (fromMs: number, toMs: number) => (toMs - fromMs) / 1000;

// ---------------------------------------------------------------------------------------------------
// Settings: one object, parsed here for the approvals and written as the gateway's config file.

function settings(sink: Sink): Record<string, unknown> {
  return {
    mail: { messageIdDomain: "bench.example" },
    mailboxes: [
      {
        name: MAILBOX.name,
        address: MAILBOX.address,
        smtp: { host: sink.host, port: sink.port, secure: false },
        reply: { displayName: MAILBOX.displayName, signature: SIGNATURE },
      },
    ],
    ...(connectionsFlag === null ? {} : { outbound: { maxConnections: connectionsFlag } }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Waiting for the SMTP server, with a stall check

/** Resolves once the server accepted `n` messages since its last reset; fails when nothing moves for `stallMs` or the gateway ends. */
async function accepted(sink: Sink, n: number, what: string, gw: Gateway | null, stallMs = STALL_MS): Promise<SinkStats> {
  const done = sink.until(n);
  let seen = -1;
  let movedAt = clock();
  let reportedAt = clock();
  for (;;) {
    const r = await Promise.race([done, sleep(1000).then(() => null)]);
    if (r) return r;
    if (gw?.exit) throw new Error(`${what}: the gateway ended (${describeExit(gw)}) after ${seen} of ${n} messages:\n${gw.tail()}`);
    const s = await sink.stats();
    if (s.accepted !== seen) [seen, movedAt] = [s.accepted, clock()];
    else if (clock() - movedAt > stallMs)
      throw new Error(`${what}: stalled at ${s.accepted} of ${n} accepted for ${stallMs / 1000} s${gw ? `:\n${gw.tail()}` : ""}`);
    if (clock() - reportedAt > 10_000) {
      log(`  ${what}: ${s.accepted} / ${n} accepted`);
      reportedAt = clock();
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Bare baseline

interface SendRun {
  seconds: number;
  bytes: number;
  connections: number;
}

function sendRun(s: SinkStats, n: number): SendRun {
  return { seconds: seconds(s.firstConnectionAt!, s.lastAcceptedAt!), bytes: s.bytes / n, connections: s.connections };
}

/** nodemailer's pool transport with `connections` connections, every reply handed to sendMail at once. */
async function bare(sink: Sink, cases: ReplyCase[], connections: number, pass: string): Promise<SendRun> {
  await sink.reset();
  const transport = createTransport({ pool: true, maxConnections: connections, host: sink.host, port: sink.port, secure: false });
  try {
    await Promise.all(cases.map((c, i) => transport.sendMail(bareMessage(c, `bare-${pass}-${i}@bench.example`))));
  } finally {
    transport.close();
  }
  return sendRun(await accepted(sink, cases.length, "bare nodemailer", null), cases.length);
}

// ---------------------------------------------------------------------------------------------------
// The gateway: `draftgate start --roles outbound`

interface Gateway {
  child: ChildProcessByStdio<null, Readable, Readable>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
  output: string;
  tail(): string;
}

function startGateway(databaseUrl: string, configFile: string, profileDir: string | null): Gateway {
  const child = spawnDraftgate(["start", "--roles", "outbound"], { DATABASE_URL: databaseUrl, DRAFTGATE_CONFIG: configFile }, profileDir);
  const gw: Gateway = {
    child,
    exit: null,
    exited: new Promise((resolve) => child.once("close", (code, signal) => resolve(void (gw.exit = { code, signal })))),
    output: "",
    tail: () => gw.output.trim().split("\n").slice(-30).join("\n") || "(no output)",
  };
  child.once("error", (err) => (gw.output += `\n[spawn error] ${err.message}\n`));
  for (const stream of [child.stdout, child.stderr])
    stream.setEncoding("utf8").on("data", (c: string) => (gw.output = (gw.output + c).slice(-50_000)));
  return gw;
}

const describeExit = (gw: Gateway) => (gw.exit?.signal ? `signal ${gw.exit.signal}` : `exit ${gw.exit?.code}`);

/** SIGTERM, SIGKILL after `graceMs`; true when it had to be killed. */
async function stopGateway(gw: Gateway, graceMs: number): Promise<boolean> {
  if (gw.exit) return false;
  gw.child.kill("SIGTERM");
  const killer = setTimeout(() => gw.child.kill("SIGKILL"), graceMs);
  await gw.exited;
  clearTimeout(killer);
  return gw.exit!.signal === "SIGKILL";
}

/** The gateway's log lines (level warn and up) by message, with counts. */
function logSummary(output: string): string {
  const counts = new Map<string, number>();
  for (const line of output.split("\n").filter((l) => l.trim())) {
    let msg = line.slice(0, 200);
    try {
      msg = (JSON.parse(line) as { msg?: string }).msg ?? msg;
    } catch {
      // a line that is not JSON counts as it is
    }
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return [...counts].map(([m, n]) => `  ${n} × ${m}`).join("\n");
}

// ---------------------------------------------------------------------------------------------------
// One database: setup, throughput, after-send jobs, latency

interface GatewayRun {
  d: Dialect;
  ingestSeconds: number;
  approveSeconds: number;
  send: SendRun;
  /** Spawn → the N-th accepted. */
  spawnToLast: number;
  /** The N-th accepted → no send or after-send job open. */
  afterSendSeconds: number;
  latency: { ms: number[]; approveMs: number[] } | null;
  profile: string | null;
}

/** The N + M conversations and the N approved replies, untimed (the gateway is not running yet). */
async function prepare(h: Harness, config: Config, cases: ReplyCase[]): Promise<{ ingestSeconds: number; approveSeconds: number }> {
  const mailbox = (await findMailbox(h.store, MAILBOX.name))!;
  const intake = new Intake(h.store, intakeOptions(config));
  const t0 = clock();
  for (let i = 0; i < cases.length; i += INGEST_BATCH) {
    const batch = cases.slice(i, i + INGEST_BATCH);
    const outcomes = await intake.ingest(
      mailbox,
      batch.map((c) => ({ raw: c.raw, source: "bench", sourceRef: null })),
    );
    const bad = outcomes.find((o) => o.kind !== "stored");
    if (bad) throw new Error(`a customer message was not stored: ${JSON.stringify(bad)}`);
  }
  const t1 = clock();
  for (const c of cases.slice(0, count)) await h.approve(c.messageId, c.body);
  const t2 = clock();

  // The gateway's replies must be the bare baseline's: same recipient, subject and threading.
  const entries = await h.store.read((em) => em.getRepository<OutboxRow>("Outbox").find());
  const byAnswer = new Map(entries.map((e) => [e.inReplyTo, e]));
  for (const c of cases.slice(0, count)) {
    const e = byAnswer.get(c.messageId);
    const to = e?.to.map((a) => a.address.toLowerCase()).join(",");
    if (!e || to !== c.customer.address.toLowerCase() || e.cc.length > 0 || e.subject !== c.subject || e.fromAddress !== MAILBOX.address) {
      throw new Error(
        `the outbox entry answering <${c.messageId}> differs from the bare message: ${JSON.stringify(e && { to: e.to, cc: e.cc, subject: e.subject })} vs ${JSON.stringify({ to: c.customer.address, subject: c.subject })}`,
      );
    }
  }
  return { ingestSeconds: seconds(t0, t1), approveSeconds: seconds(t1, t2) };
}

/** Waits until no job of the outbound role is queued or running (the after-send jobs of what was sent). */
async function drained(h: Harness, gw: Gateway): Promise<void> {
  const types = [SEND_JOB, ...Object.values(AFTER_SEND_JOBS)];
  let seen = -1;
  let movedAt = clock();
  for (;;) {
    const open = await h.store.read((em) => em.getRepository<JobRow>("Job").countBy({ type: In(types), state: In(["queued", "running"]) }));
    if (open === 0) return;
    if (gw.exit) throw new Error(`the gateway ended (${describeExit(gw)}) with ${open} outbound jobs open:\n${gw.tail()}`);
    if (open !== seen) [seen, movedAt] = [open, clock()];
    else if (clock() - movedAt > STALL_MS) throw new Error(`${open} outbound jobs stayed open for ${STALL_MS / 1000} s:\n${gw.tail()}`);
    await sleep(200);
  }
}

/** Approves each case's reply in turn, exponential gaps of mean `interval`; latency = approval committed → accepted. */
async function measureLatency(sink: Sink, h: Harness, gw: Gateway, probes: ReplyCase[]): Promise<{ ms: number[]; approveMs: number[] }> {
  await sink.reset();
  const rng = mulberry32(seed + 2);
  const approvedAt: number[] = [];
  const approveMs: number[] = [];
  for (const c of probes) {
    await sleep(-Math.log(1 - rng()) * interval);
    if (gw.exit) throw new Error(`the gateway ended (${describeExit(gw)}) during the latency part:\n${gw.tail()}`);
    const t0 = clock();
    await h.approve(c.messageId, c.body);
    const t1 = clock();
    approvedAt.push(t1);
    approveMs.push(t1 - t0);
  }
  await accepted(sink, probes.length, "latency replies", gw, 30_000);
  const at = await sink.times(probes.map((c) => c.customer.address));
  return { ms: at.map((t, i) => t! - approvedAt[i]!), approveMs };
}

async function gatewayRun(d: Dialect, sink: Sink, config: Config, cases: ReplyCase[], workDir: string): Promise<GatewayRun> {
  const db = await freshDatabase(d, "dg_bench_outbound");
  const undoDb = onCleanup(`${LABEL[d]} database`, () => db.drop());
  const h = await Harness.open(db, config);
  const undoStore = onCleanup(`${LABEL[d]} store`, () => h.close());
  log(`${LABEL[d]}: ingesting ${cases.length} customer messages, approving ${count} replies …`);
  const { ingestSeconds, approveSeconds } = await prepare(h, config, cases);
  log(
    `${LABEL[d]}:   ingested in ${ingestSeconds.toFixed(1)} s, approved in ${approveSeconds.toFixed(1)} s (${fmt.rate(count / approveSeconds).replace("msg", "approvals")})`,
  );

  const configFile = join(workDir, `draftgate-${d}.yaml`);
  writeFileSync(configFile, JSON.stringify(settings(sink), null, 2)); // JSON is YAML
  const profileDir = args["cpu-prof"] ? mkdtempSync(join(tmpdir(), `draftgate-bench-outbound-prof-${d}-`)) : null;

  await sink.reset();
  log(`${LABEL[d]}: draftgate start --roles outbound, sending ${count} replies …`);
  const spawnedAt = clock();
  const gw = startGateway(db.url, configFile, profileDir);
  const undoGw = onCleanup(`${LABEL[d]} gateway (pid ${gw.child.pid})`, async () => void (await stopGateway(gw, 10_000)));
  const s = await accepted(sink, count, `${LABEL[d]} gateway`, gw);
  const send = sendRun(s, count);
  log(
    `${LABEL[d]}:   ${count} accepted in ${send.seconds.toFixed(2)} s (${fmt.rate(count / send.seconds)}); waiting for the after-send jobs …`,
  );
  await drained(h, gw);
  const afterSendSeconds = seconds(s.lastAcceptedAt!, clock());

  let latency: GatewayRun["latency"] = null;
  if (latencyCount > 0) {
    await sleep(IDLE_BEFORE_LATENCY_MS);
    log(`${LABEL[d]}: latency, ${latencyCount} approvals one at a time (mean gap ${interval} ms) …`);
    latency = await measureLatency(sink, h, gw, cases.slice(count));
    await drained(h, gw);
  }

  const killed = await stopGateway(gw, 30_000);
  undoGw();
  if (killed) throw new Error(`the ${LABEL[d]} gateway did not exit within 30 s of SIGTERM; killed:\n${gw.tail()}`);
  if (gw.exit?.code !== 0) throw new Error(`the ${LABEL[d]} gateway exited ${describeExit(gw)} on SIGTERM:\n${gw.tail()}`);
  const summary = logSummary(gw.output);
  if (summary) log(`${LABEL[d]} gateway log (level warn and up), by message:\n${summary}`);

  const states = await outboxCounts(h.store);
  const expected = count + latencyCount;
  if (states.sent !== expected || Object.keys(states).length !== 1)
    throw new Error(`${LABEL[d]}: outbox states at the end ${JSON.stringify(states)}, expected ${expected} sent`);
  await h.close();
  undoStore();
  await db.drop();
  undoDb();
  return {
    d,
    ingestSeconds,
    approveSeconds,
    send,
    spawnToLast: seconds(spawnedAt, s.lastAcceptedAt!),
    afterSendSeconds,
    latency,
    profile: latestCpuProfile(profileDir),
  };
}

// ---------------------------------------------------------------------------------------------------
// Report

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

const version = (pkg: string) => (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;

function report(config: Config, before: SendRun, after: SendRun, runs: GatewayRun[]): void {
  const c = config.outbound.maxConnections;
  const bareSeconds = (before.seconds + after.seconds) / 2;
  const bareRate = count / bareSeconds;
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const out: string[] = [];
  out.push(
    `Draftgate outbound benchmark: ${count} approved replies${latencyCount > 0 ? ` (+ ${latencyCount} for latency)` : ""}, one conversation each, ` +
      `${kb(before.bytes)} bare / ${runs.map((r) => `${kb(r.send.bytes)} ${LABEL[r.d]}`).join(" / ")} per message on the wire, seed ${seed}`,
  );
  out.push(
    `${machine()}; smtp-server ${version("smtp-server")} on 127.0.0.1 in a worker thread (no auth, no TLS, accepts all), nodemailer ${version("nodemailer")}; ` +
      `outbound.maxConnections ${c}, jobs.concurrency ${config.jobs.concurrency}, jobs.pollIntervalMs ${config.jobs.pollIntervalMs}` +
      (args["cpu-prof"] ? "  [--cpu-prof: gateway times include profiler overhead]" : ""),
  );
  out.push("");
  out.push(`Throughput: ${count} replies, first SMTP connection → ${count}th accepted (server clock)`);
  const rows: string[][] = [["", "time", "rate", "× bare", "goal", "result"]];
  rows.push([`bare nodemailer pool (${c} connections)`, fmt.s(bareSeconds), fmt.rate(bareRate), "1.00", "", ""]);
  rows.push(["  before / after the gateway runs", `${fmt.s(before.seconds)} / ${fmt.s(after.seconds)}`, "", "", "", ""]);
  const verdicts: string[] = [];
  for (const r of runs) {
    const rate = count / r.send.seconds;
    const ratio = rate / bareRate;
    const pass = ratio >= GOAL_RATIO;
    rows.push([
      `${LABEL[r.d]} gateway (start --roles outbound)`,
      fmt.s(r.send.seconds),
      fmt.rate(rate),
      ratio.toFixed(2),
      `≥ ${GOAL_RATIO.toFixed(2)}`,
      pass ? "PASS" : "MISS",
    ]);
    rows.push(["  spawn → last accepted (incl. start-up)", fmt.s(r.spawnToLast), fmt.rate(count / r.spawnToLast), "", "", ""]);
    rows.push(["  after-send jobs done, after the last", fmt.s(r.afterSendSeconds), "", "", "", ""]);
    rows.push([
      `  setup: ingest / approve (${fmt.rate(count / r.approveSeconds).replace("msg", "appr.")})`,
      `${fmt.s(r.ingestSeconds)} / ${fmt.s(r.approveSeconds)}`,
      "",
      "",
      "",
      "",
    ]);
    verdicts.push(
      `${LABEL[r.d]}: ${fmt.rate(rate)} through the gateway vs ${fmt.rate(bareRate)} bare = ${ratio.toFixed(2)} × (goal ≥ ${GOAL_RATIO}) → ${pass ? "PASS" : "MISS"}`,
    );
  }
  out.push(table(rows));

  const withLatency = runs.filter((r) => r.latency);
  if (withLatency.length > 0) {
    out.push("");
    out.push(
      `Latency: ${latencyCount} replies approved one at a time on the idle gateway (mean gap ${interval} ms); approval committed → accepted by the SMTP server`,
    );
    const lrows: string[][] = [["", "min", "p50", "p90", "p99", "max", "mean", "approve p50", `p99 ≤ ${GOAL_P99_MS} ms`]];
    for (const r of withLatency) {
      const sorted = [...r.latency!.ms].sort((a, b) => a - b);
      const [min, p50, p90, p99, max] = [0, 50, 90, 99, 100].map((p) => percentile(sorted, p)) as [number, number, number, number, number];
      const approveP50 = percentile(
        [...r.latency!.approveMs].sort((a, b) => a - b),
        50,
      );
      const verdict = p99 <= GOAL_P99_MS ? "PASS" : "MISS";
      const mean = sorted.reduce((x, y) => x + y, 0) / sorted.length;
      lrows.push([`${LABEL[r.d]} gateway`, ...[min, p50, p90, p99, max, mean].map(fmt.ms), fmt.ms1(approveP50), verdict]);
      verdicts.push(`${LABEL[r.d]}: approval → accepted p50 ${fmt.ms(p50)}, p99 ${fmt.ms(p99)} (goal ≤ ${GOAL_P99_MS}) → ${verdict}`);
    }
    out.push(table(lrows));
  }
  out.push("");
  out.push(
    ...wrapText(
      `Bare: nodemailer createTransport({ pool: true, maxConnections: ${c} }) in the benchmark's main thread, sendMail of all ${count} replies at once ` +
        "(nodemailer composes each; its pool reconnects after maxMessages, 100 by default); the mean of a pass before and a pass after the gateway runs. " +
        `Gateway: the real path in its own process: \`node bin/draftgate.js start --roles outbound\` (log level warn) against a database holding the ${count} ` +
        "replies approved with approveDraft (send jobs queued), so its job worker claims them and the Outbound service builds, checks, claims, sends and records each. " +
        "Both are timed on the server from the first connection to the last acceptance; the gateway's after-send jobs (priority 50, behind the sends) " +
        "run after that and are shown apart. " +
        (latencyCount > 0
          ? `Latency: approvals from the benchmark process (as \`draftgate drafts approve\` would), measured from approveDraft's commit; the gateway's worker finds new send jobs by polling every jobs.pollIntervalMs. Percentiles are nearest-rank.`
          : ""),
      100,
    ),
  );
  out.push(...verdicts);
  process.stdout.write(out.join("\n") + "\n");
  for (const r of runs) if (r.profile) printCpuProfile(`${LABEL[r.d]} gateway`, r.profile);
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  await checkMysqlReachable(dialects);
  if (!args["skip-build"]) build(voice);
  log(`generating ${count + latencyCount} customer messages and replies (seed ${seed}) …`);
  const cases = await replyCases(count + latencyCount, seed);
  const workDir = mkdtempSync(join(tmpdir(), "draftgate-bench-outbound-"));
  onCleanup("work folder", () => rmSync(workDir, { recursive: true, force: true }));
  const sink = await startSink();
  onCleanup("SMTP server", () => sink.stop());
  const config = configSchema.parse(settings(sink));
  const c = config.outbound.maxConnections;

  log(`bare nodemailer, pool of ${c} …`);
  const before = await bare(sink, cases.slice(0, count), c, "before");
  log(`  ${before.seconds.toFixed(2)} s`);
  const runs: GatewayRun[] = [];
  for (const d of dialects) runs.push(await gatewayRun(d, sink, config, cases, workDir));
  log(`bare nodemailer again …`);
  const after = await bare(sink, cases.slice(0, count), c, "after");
  log(`  ${after.seconds.toFixed(2)} s`);
  await cleanups.runAll();
  report(config, before, after, runs);
}

await main()
  .catch(async (err: unknown) => {
    if (interrupted) return;
    await cleanups.runAll();
    fail(errorText(err));
  })
  .then(() => cleanups.runAll());
