/**
 * Review page benchmark: how long the server takes to answer a reviewer with a big backlog.
 *
 *   npm run bench:review -- [--conversations 10000] [--samples 200] [--warmup 20] [--seed 1]
 *                           [--only sqlite|mysql] [--cpu-prof]
 *
 * For each database, a fresh one gets N open conversations (plus N/20 waiting on the customer and N/10
 * closed) in three mailboxes, as intake, triage and drafting leave them (seed.ts): each open one with
 * its customer mail, triage rows and a pending draft; one of them 200 messages long. The web app
 * (createApp, the real one) listens on 127.0.0.1 in this process; the benchmark logs in through the form
 * as an admin and sends requests one at a time with fetch (keep-alive), each timed from just before it
 * is sent until its whole response has arrived, after a warm-up. Goals (from the issue), p95:
 * - queue page (GET /, a mix of the default view, pages 2 and 3 and filters) ≤ 100 ms;
 * - the 200-message conversation (GET /c/:id) ≤ 150 ms;
 * - approve → outbox entry (POST /api/drafts/:id/approve, a different pending draft each time, timed
 *   until the 201, which comes after the outbox entry is committed) ≤ 50 ms.
 * The JSON twins (GET /api/queue, GET /api/conversations/:id) and GET /healthz (no session, no
 * database: what HTTP and fetch cost by themselves) are measured too, without a goal.
 *
 * A MISS still exits 0; errors exit 1. The databases are dropped at the end, also on errors and Ctrl-C.
 */
import type { Server } from "node:http";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { pino } from "pino";
import { configSchema, type Config } from "../../src/config/schema.js";
import { Metrics } from "../../src/obs/metrics.js";
import { select } from "../../src/store/sql.js";
import { Store } from "../../src/store/store.js";
import { createApp } from "../../src/web/app.js";
import { listen } from "../../src/web/listen.js";
import { summarizeCpuProfile } from "../cpuprofile.js";
import { Cleanups } from "../support/cleanup.js";
import { benchVoice, dialectsArg, intArg, parseBenchArgs } from "../support/cli.js";
import { checkMysqlReachable, DIALECT_LABEL as LABEL, freshDatabase, type Dialect } from "../support/db.js";
import { repoRoot } from "../support/gateway.js";
import { errorText, fmt, machine, table, wrapText } from "../support/report.js";
import { ReviewClient, type Timed } from "./client.js";
import { BENCH_PASSWORD, BENCH_USER, BIG_MESSAGES, EMBEDDING_DIM, MAILBOXES, seedDatabase, type Seeded } from "./seed.js";
import { customer, mulberry32, replyText } from "./text.js";

/** p95 goals in ms. */
const GOALS = { queue: 100, conversation: 150, approve: 50 } as const;

/** The queue views a reviewer goes through, in turn: the default most often, then pages 2 and 3 and the filters. */
const QUEUE_MIX = [
  "/",
  "/?offset=50",
  "/",
  "/?priority=urgent",
  "/?offset=100",
  "/?assigned=me",
  "/",
  "/?overdue=1",
  "/?draft=1",
  "/?mailbox=billing",
  "/",
  "/?q=refund",
  "/?assigned=none&priority=high",
  "/?category=shipping",
  "/?status=pending",
];

const voice = benchVoice("bench:review");
const { log, fail } = voice;

const args = parseBenchArgs(
  voice,
  {
    conversations: { type: "string", default: "10000" },
    samples: { type: "string", default: "200" },
    warmup: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    only: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
  },
  "usage: npm run bench:review -- [--conversations N] [--samples N] [--warmup N] [--seed S] [--only sqlite|mysql] [--cpu-prof]\n" +
    [
      ["--conversations N", "open conversations in the queue, one of them 200 messages long (default 10000; at least 2)"],
      ["--samples N", "timed requests of each kind: queue page, conversation, approvals (default 200)"],
      ["--warmup N", "untimed requests of each kind before those (default 20)"],
      ["--seed S", "PRNG seed of the generated conversations (default 1)"],
      ["--only D", "sqlite or mysql (MariaDB): one database instead of both"],
      [
        "--cpu-prof",
        "profile the server during each timed part (V8 profiler, in process) and list the hot spots; the times then include the profiler's overhead",
      ],
    ]
      .map(([flag, text]) => `  ${flag!.padEnd(20)}${text}\n`)
      .join("") +
    "  env BENCH_MYSQL_URL  server for the MariaDB run (default mysql://root@127.0.0.1:3306)\n",
);
const open = intArg(voice, "conversations", args.conversations, 1);
if (open < 2) fail("--conversations must be at least 2 (the long conversation and one more)");
const samples = intArg(voice, "samples", args.samples, 1);
const warmup = intArg(voice, "warmup", args.warmup, 0);
const seed = intArg(voice, "seed", args.seed, 0);
const dialects = dialectsArg(voice, args.only);
/** The JSON twins and the floor get a quarter as many samples: they carry no goal. */
const infoSamples = Math.max(1, Math.ceil(samples / 4));

const cleanups = new Cleanups(log);
const onCleanup = (name: string, fn: () => Promise<void> | void) => cleanups.add(name, fn);
cleanups.exitOnSignal("interrupted; stopping the server, dropping the databases …");
let interrupted = false;
process.once("SIGINT", () => (interrupted = true));

const config: Config = configSchema.parse({
  mail: { messageIdDomain: "bench.example" },
  mailboxes: MAILBOXES.map((m) => ({ name: m.name, address: m.address })),
});

// ---------------------------------------------------------------------------------------------------
// Measuring

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1]! };
}

/** A response that is not the expected status ends the run: a benchmark of error pages measures nothing. */
function expectStatus(what: string, r: Timed, status: number): Timed {
  if (r.status !== status) throw new Error(`${what} answered ${r.status}, expected ${status}: ${r.body.slice(0, 300)}`);
  return r;
}

/** `n` requests one after another; `request(i)` makes the i-th. Returns each one's time. */
async function series(n: number, request: (i: number) => Promise<Timed>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push((await request(i)).ms);
  return ms;
}

/** With --cpu-prof: the V8 profiler runs around `fn`, and the summary is kept for the report. */
async function profiled<T>(title: string, fn: () => Promise<T>, into: { title: string; summary: string }[]): Promise<T> {
  if (!args["cpu-prof"]) return fn();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    const file = join(tmpdir(), `draftgate-bench-review-${process.pid}-${title.replace(/\W+/gu, "-")}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    into.push({ title: `${title} (${file})`, summary: summarizeCpuProfile(JSON.stringify(profile), 15, repoRoot) });
  }
}

// ---------------------------------------------------------------------------------------------------
// One database

interface DialectRun {
  d: Dialect;
  seeded: Seeded;
  migrateSeconds: number;
  seedSeconds: number;
  queue: Map<string, number[]>;
  conversation: number[];
  approve: number[];
  apiQueue: number[];
  apiConversation: number[];
  floor: number[];
  profiles: { title: string; summary: string }[];
}

async function dialectRun(d: Dialect): Promise<DialectRun> {
  const db = await freshDatabase(d, "dg_bench_review");
  const undoDb = onCleanup(`${LABEL[d]} database`, () => db.drop());
  const store = await Store.open(db.url);
  const undoStore = onCleanup(`${LABEL[d]} store`, () => store.close());
  const t0 = performance.now();
  await store.migrate();
  const migrateSeconds = (performance.now() - t0) / 1000;
  log(`${LABEL[d]}: seeding ${open} open conversations …`);
  const t1 = performance.now();
  const seeded = await seedDatabase(store, config, { open, seed }, log);
  const seedSeconds = (performance.now() - t1) / 1000;
  log(
    `${LABEL[d]}:   seeded in ${seedSeconds.toFixed(1)} s: ${Object.entries(seeded.rows)
      .map(([t, n]) => `${n} ${t}`)
      .join(", ")}`,
  );

  const app = createApp({ store, config, metrics: new Metrics(null), log: pino({ level: "silent" }) });
  const server: Server = await listen(app, "127.0.0.1", 0);
  const stopServer = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const undoServer = onCleanup(`${LABEL[d]} web server`, stopServer);
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the web server has no TCP address");
  const client = await ReviewClient.login(`http://127.0.0.1:${address.port}`, BENCH_USER, BENCH_PASSWORD);
  await check(client, seeded);

  const big = seeded.bigConversationId;
  const drafts = [...seeded.pendingDrafts];
  const approveWarmup = Math.min(warmup, Math.max(0, drafts.length - 1));
  const approveSamples = Math.min(samples, drafts.length - approveWarmup);
  if (approveSamples < samples)
    log(`${LABEL[d]}: only ${drafts.length} pending drafts: ${approveSamples} timed approvals after ${approveWarmup} warm-up`);
  const rng = mulberry32(seed + 1);
  const approveOne = async () => {
    const id = drafts.shift()!;
    const r = expectStatus(
      `approving draft ${id}`,
      await client.postJson(`/api/drafts/${id}/approve`, { body: replyText(rng, customer(rng, id)) }),
      201,
    );
    if (!(JSON.parse(r.body) as { outboxId?: number }).outboxId) throw new Error(`approving draft ${id} answered 201 without an outboxId`);
    return r;
  };
  const get = (what: string, path: string) => async () => expectStatus(`${what} (GET ${path})`, await client.get(path), 200);

  log(`${LABEL[d]}: warming up (${warmup} of each kind) …`);
  for (let i = 0; i < Math.max(warmup, QUEUE_MIX.length); i++) await get("queue page", QUEUE_MIX[i % QUEUE_MIX.length]!)();
  for (let i = 0; i < warmup; i++) {
    await get("conversation page", `/c/${big}`)();
    await get("queue API", "/api/queue")();
    await get("conversation API", `/api/conversations/${big}`)();
    await get("health", "/healthz")();
  }
  for (let i = 0; i < approveWarmup; i++) await approveOne();

  const profiles: DialectRun["profiles"] = [];
  log(
    `${LABEL[d]}: timing ${samples} queue pages, ${samples} conversation pages, ${approveSamples} approvals, ${infoSamples} of each JSON twin …`,
  );
  const floor = await series(infoSamples, () => get("health", "/healthz")());
  const queue = new Map<string, number[]>(QUEUE_MIX.map((p) => [p, []]));
  await profiled(
    `${LABEL[d]} queue page`,
    () =>
      series(samples, async (i) => {
        const path = QUEUE_MIX[i % QUEUE_MIX.length]!;
        const r = await get("queue page", path)();
        queue.get(path)!.push(r.ms);
        return r;
      }),
    profiles,
  );
  const apiQueue = await series(infoSamples, get("queue API", "/api/queue"));
  const conversation = await profiled(
    `${LABEL[d]} conversation page`,
    () => series(samples, get("conversation page", `/c/${big}`)),
    profiles,
  );
  const apiConversation = await series(infoSamples, get("conversation API", `/api/conversations/${big}`));
  const approve = await profiled(`${LABEL[d]} approve`, () => series(approveSamples, approveOne), profiles);

  // Every approval made its outbox entry (the 201 came after the commit).
  const [queued] = await store.read((em) =>
    select<{ n: number | string }>(em, "SELECT COUNT(*) AS n FROM `outbox` WHERE `state` = 'queued'", []),
  );
  if (Number(queued?.n) !== approveWarmup + approveSamples)
    throw new Error(`${LABEL[d]}: ${queued?.n} queued outbox entries after ${approveWarmup + approveSamples} approvals`);

  await stopServer();
  undoServer();
  await store.close();
  undoStore();
  await db.drop();
  undoDb();
  return { d, seeded, migrateSeconds, seedSeconds, queue, conversation, approve, apiQueue, apiConversation, floor, profiles };
}

/** The page shows what was seeded: a full first page, every open conversation counted, all messages of the long one. */
async function check(client: ReviewClient, seeded: Seeded): Promise<void> {
  const q = JSON.parse(expectStatus("GET /api/queue", await client.get("/api/queue"), 200).body) as {
    rows: { id: number }[];
    counts: { status: { open: number }; mine: number };
  };
  const wantRows = Math.min(50, seeded.conversations.open);
  if (q.rows.length !== wantRows || q.counts.status.open !== seeded.conversations.open || q.counts.mine !== seeded.mine)
    throw new Error(
      `the queue shows ${q.rows.length} rows, ${q.counts.status.open} open and ${q.counts.mine} mine; seeded ${seeded.conversations.open} open (${seeded.mine} mine)`,
    );
  const c = JSON.parse(
    expectStatus("GET /api/conversations/:id", await client.get(`/api/conversations/${seeded.bigConversationId}`), 200).body,
  ) as {
    messages: unknown[];
  };
  if (c.messages.length !== BIG_MESSAGES) throw new Error(`the long conversation shows ${c.messages.length} messages, not ${BIG_MESSAGES}`);
}

// ---------------------------------------------------------------------------------------------------
// Report

const thousands = (n: number) => n.toLocaleString("en-US");

function report(runs: DialectRun[]): void {
  const s0 = runs[0]!.seeded;
  const out: string[] = [];
  out.push(
    `Draftgate review page benchmark: ${thousands(open)} open conversations (+ ${thousands(s0.conversations.pending)} waiting on the customer, ` +
      `${thousands(s0.conversations.closed)} closed) in ${MAILBOXES.length} mailboxes, one of ${BIG_MESSAGES} messages; seed ${seed}`,
  );
  out.push(
    `${machine()}; createApp in this process on 127.0.0.1, one request at a time by fetch (keep-alive) with an admin's session cookie; ` +
      `${samples} timed requests of each kind after ${warmup} warm-up` +
      (args["cpu-prof"] ? "  [--cpu-prof: times include profiler overhead]" : ""),
  );
  out.push("");
  const rows: string[][] = [["", "n", "p50", "p95", "p99", "max", "goal (p95)", "result"]];
  const verdicts: string[] = [];
  const row = (label: string, ms: number[], goal: number | null, d: Dialect) => {
    const s = stats(ms);
    const pass = goal === null ? null : s.p95 <= goal;
    rows.push([
      label,
      String(s.n),
      fmt.ms1(s.p50),
      fmt.ms1(s.p95),
      fmt.ms1(s.p99),
      fmt.ms1(s.max),
      goal === null ? "" : `≤ ${goal} ms`,
      pass === null ? "" : pass ? "PASS" : "MISS",
    ]);
    if (goal !== null) verdicts.push(`${LABEL[d]}: ${label.trim()} p95 ${fmt.ms1(s.p95)} (goal ≤ ${goal} ms) → ${pass ? "PASS" : "MISS"}`);
  };
  for (const r of runs) {
    rows.push([LABEL[r.d], "", "", "", "", "", "", ""]);
    row(`  queue page: GET / (${QUEUE_MIX.length} views in turn)`, [...r.queue.values()].flat(), GOALS.queue, r.d);
    row(`  conversation: GET /c/:id (${BIG_MESSAGES} messages)`, r.conversation, GOALS.conversation, r.d);
    row("  approve → outbox entry: POST /api/drafts/:id/approve", r.approve, GOALS.approve, r.d);
    row("  GET /api/queue (default view)", r.apiQueue, null, r.d);
    row(`  GET /api/conversations/:id (${BIG_MESSAGES} messages)`, r.apiConversation, null, r.d);
    row("  GET /healthz (no session, no database: the floor)", r.floor, null, r.d);
    rows.push([
      `  setup: migrate / seed (intake ${r.seeded.conversations.viaIntake} conv. ${fmt.s(r.seeded.intakeSeconds)}, bulk ${fmt.s(r.seeded.bulkSeconds)})`,
      "",
      `${fmt.s(r.migrateSeconds)} / ${fmt.s(r.seedSeconds)}`,
      "",
      "",
      "",
      "",
      "",
    ]);
  }
  out.push(table(rows));
  out.push("");
  out.push("Queue page by view (p50 / p95; each view gets every " + `${QUEUE_MIX.length}th request):`);
  const vrows: string[][] = [["", ...runs.map((r) => LABEL[r.d])]];
  for (const path of [...new Set(QUEUE_MIX)]) {
    vrows.push([
      `GET ${path}`,
      ...runs.map((r) => {
        const ms = r.queue.get(path)!;
        if (ms.length === 0) return "-";
        const s = stats(ms);
        return `${fmt.ms1(s.p50)} / ${fmt.ms1(s.p95)}`;
      }),
    ]);
  }
  out.push(table(vrows));
  out.push("");
  const r0 = s0.rows;
  out.push(
    ...wrapText(
      `Database: ${Object.entries(r0)
        .map(([t, n]) => `${thousands(n)} ${t}`)
        .join(", ")} (per database). ` +
        `The ${BIG_MESSAGES}-message conversation and 2 % of the others came in through the real intake (composed MIME, parsed, threaded); ` +
        "the rest was written with multi-row INSERTs of the same columns. Every customer message has its triage; every open conversation " +
        "ends with a customer message and has a pending draft; every answered message an approved draft and a sent outbox entry " +
        `(in the long conversation with a ${EMBEDDING_DIM}-float embedding, as the default model stores it). ` +
        "Times run from just before fetch sends the request until the whole body has arrived, one request at a time; percentiles are nearest-rank. " +
        "Each conversation view appends an audit entry and each approval an outbox entry, send and embed jobs, events and an audit entry, as in use.",
      100,
    ),
  );
  out.push(...verdicts);
  process.stdout.write(out.join("\n") + "\n");
  for (const r of runs) for (const p of r.profiles) process.stdout.write(`\n${p.title}, top 15 functions by self time:\n${p.summary}\n`);
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  await checkMysqlReachable(dialects);
  const runs: DialectRun[] = [];
  for (const d of dialects) runs.push(await dialectRun(d));
  await cleanups.runAll();
  report(runs);
}

await main()
  .catch(async (err: unknown) => {
    if (interrupted) return;
    await cleanups.runAll();
    fail(errorText(err));
  })
  .then(() => cleanups.runAll());
