/**
 * LLM drafting benchmark (CPU, tiny random-weight model): the gateway's draft handler against bare
 * node-llama-cpp generation of the very same prompts, in one process, one run.
 *
 *   node --import tsx bench/llm/run.ts [--count 24] [--tokens 64] [--parallel 4] [--seed 1] [--cpu-prof]
 *
 * Machines are noisy, so the result is a ratio against a bare baseline measured in the same run:
 * overhead = (gateway seconds per generated token) / (bare seconds per generated token) − 1, tokens
 * counted as model.tokenize(output).length. Goal (from the issue): overhead ≤ 10 %. Order of the timed
 * passes: bare prompt-only, bare, gateway, bare, bare prompt-only; the baseline is the mean of the two
 * bare passes, the prompt-only passes feed the informational length-adjusted overhead. See bench/README.md.
 * A MISS still exits 0 (a measurement, not a test); errors (a model that does not load, a triage or draft
 * job that does not finish "done", a missing draft, prompts that differ from the baseline's) exit 1.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { getLlama, LlamaChatSession, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Llama } from "node-llama-cpp";
import { pino } from "pino";
import { llmTestConfig } from "../../spec/support/tinyModel.js";
import { draftHandler } from "../../src/llm/draftJob.js";
import type { JsonCall, LlmEngine, TextCall, Usage } from "../../src/llm/engine.js";
import { LlmService } from "../../src/llm/service.js";
import { TINY_SHAPE, writeTinyGguf } from "../../src/llm/tinyGguf.js";
import { triageHandler } from "../../src/llm/triageJob.js";
import { intakeOptions } from "../../src/pipeline/intakeOptions.js";
import { Intake } from "../../src/pipeline/intake.js";
import type { JobContext, JobOutcome } from "../../src/queue/worker.js";
import type { DraftRow } from "../../src/store/entities/review.js";
import type { EventRow, JobRow } from "../../src/store/entities/work.js";
import { ensureMailbox } from "../../src/store/mailboxes.js";
import { Store } from "../../src/store/store.js";
import { summarizeCpuProfile } from "../cpuprofile.js";
import { Cleanups } from "../support/cleanup.js";
import { benchVoice, intArg, parseBenchArgs } from "../support/cli.js";
import { freshDatabase } from "../support/db.js";
import { repoRoot } from "../support/gateway.js";
import { fmt, machine, table } from "../support/report.js";
import { secondsSince } from "../support/timing.js";
import { benchMessages } from "./messages.js";

const GOAL_OVERHEAD = 0.1;

const voice = benchVoice("bench/llm");

const args = parseBenchArgs(
  voice,
  {
    count: { type: "string", default: "24" },
    tokens: { type: "string", default: "64" },
    parallel: { type: "string", default: "4" },
    seed: { type: "string", default: "1" },
    "cpu-prof": { type: "boolean", default: false },
  },
  "usage: node --import tsx bench/llm/run.ts [--count N] [--tokens T] [--parallel P] [--seed S] [--cpu-prof]\n" +
    "  --count N      conversations to draft (default 24)\n" +
    "  --tokens T     llm.maxDraftTokens (default 64)\n" +
    "  --parallel P   concurrent drafts = context sequences, gateway and bare alike (default 4)\n" +
    "  --seed S       seed of the generated customer messages (default 1)\n" +
    "  --cpu-prof     after the measurement, run the gateway pass once more under the V8 profiler and\n" +
    "                 print its hot spots (that extra pass is not part of the result)\n",
);

const N = intArg(voice, "count", args.count, 1);
const T = intArg(voice, "tokens", args.tokens, 1);
const P = intArg(voice, "parallel", args.parallel, 1);
const SEED = intArg(voice, "seed", args.seed, 1);
if (T < 16) voice.fail("--tokens must be at least 16 (llm.maxDraftTokens minimum)");

/** The gateway's logger in this process: silent (the benchmark prints its own report). */
const log = pino({ level: "silent" });
const say = (s = "") => process.stdout.write(`${s}\n`);
const ctx = (): JobContext => ({ signal: new AbortController().signal, log });
type Config = ReturnType<typeof llmTestConfig>;


// ---------------------------------------------------------------------------------------------------
// Instrumentation: a recording engine (the prompts for the baseline, the time inside the model call)
// and a timing store (the time of the handler's database work). Each adds two performance.now() calls
// and an object per call: microseconds against drafts that take tens of milliseconds.

interface TextRecord {
  /** Index of the draft job that made the call (set by the gateway pass). */
  job?: number;
  system: string;
  user: string;
  maxTokens: number;
  start: number;
  end: number;
  tokens: number;
  text: string;
  aborted: boolean;
}

/** Which draft job (index) the code running now belongs to. */
const currentJob = new AsyncLocalStorage<number>();

class RecordingEngine implements LlmEngine {
  readonly calls: TextRecord[] = [];
  /** Model calls running now. */
  active = 0;
  countCalls = 0;
  countMs = 0;

  constructor(private readonly inner: LlmEngine) {}

  get info() {
    return this.inner.info;
  }

  json(call: JsonCall): Promise<Usage & { value: unknown }> {
    return this.inner.json(call);
  }

  async text(call: TextCall): Promise<Usage & { text: string; aborted: boolean }> {
    const rec: TextRecord = { job: currentJob.getStore(), system: call.system, user: call.user, maxTokens: call.maxTokens, start: performance.now(), end: 0, tokens: 0, text: "", aborted: false };
    this.calls.push(rec);
    this.active++;
    let out;
    try {
      out = await this.inner.text(call);
    } finally {
      this.active--;
      rec.end = performance.now();
    }
    rec.tokens = out.tokens;
    rec.text = out.text;
    rec.aborted = out.aborted;
    return out;
  }

  embed(text: string): Promise<number[]> {
    return this.inner.embed(text);
  }

  countTokens(text: string): number {
    const t0 = performance.now();
    try {
      return this.inner.countTokens(text);
    } finally {
      this.countCalls++;
      this.countMs += performance.now() - t0;
    }
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

interface DbTimes {
  tx: { n: number; ms: number };
  read: { n: number; ms: number };
  /** Transactions that committed while at least one model call was running (stream flushes, mostly). */
  txDuringGeneration: number;
}

/** The store with `tx` and `read` timed (time inside the callback, not the wait in SQLite's queue). */
function timedStore(store: Store, times: DbTimes, generating: () => boolean): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "tx" || prop === "read") {
        const kind = prop;
        return <R>(fn: (em: never) => Promise<R>, options?: never) =>
          (target[kind] as (f: (em: never) => Promise<R>, o?: never) => Promise<R>).call(
            target,
            async (em: never) => {
              const t0 = performance.now();
              try {
                return await fn(em);
              } finally {
                times[kind].n++;
                times[kind].ms += performance.now() - t0;
                if (kind === "tx" && generating()) times.txDuringGeneration++;
              }
            },
            options,
          );
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

// ---------------------------------------------------------------------------------------------------

/** Runs `fn` over `items` with at most `limit` at once, in order of the items. */
async function pool<I, R>(items: readonly I[], limit: number, fn: (item: I, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(runners);
  return results;
}

interface PassResult {
  label: string;
  seconds: number;
  /** Generated tokens as the goal counts them: model.tokenize(text).length of each output, summed. */
  tokens: number;
  /** Tokens the context evaluated and sampled in the pass (its token meter), when it can be read. */
  meter: { input: number; output: number } | null;
  /** Event-loop utilization of the main thread during the pass. */
  elu: number;
  /** Process CPU seconds (all threads: llama.cpp's one compute thread and the JS main thread). */
  cpu: number;
}

/** Input and output tokens metered by these sequences so far (each sequence has a TokenMeter). */
function metered(sequences: readonly LlamaContextSequence[]): { input: number; output: number } {
  return sequences.reduce((a, s) => ({ input: a.input + s.tokenMeter.usedInputTokens, output: a.output + s.tokenMeter.usedOutputTokens }), { input: 0, output: 0 });
}

/** Times `fn` (wall, main-thread utilization, CPU); its generated tokens are counted after the clock stopped. */
async function measure<R>(label: string, sequences: readonly LlamaContextSequence[] | null, fn: () => Promise<R>, tokensOf: (r: R) => number): Promise<PassResult & { extra: R }> {
  const meter0 = sequences && metered(sequences);
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const extra = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpuUsed = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const meter1 = sequences && metered(sequences);
  const meter = meter0 && meter1 ? { input: meter1.input - meter0.input, output: meter1.output - meter0.output } : null;
  return { label, seconds, tokens: tokensOf(extra), meter, elu, cpu: (cpuUsed.user + cpuUsed.system) / 1e6, extra };
}

/** Bare node-llama-cpp: its own model instance, loaded exactly as LlamaCppEngine.load does. */
class Bare {
  private readonly free: LlamaContextSequence[] = [];

  private constructor(
    private readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {
    while (context.sequencesLeft > 0) this.free.push(context.getSequence());
    this.sequences = [...this.free];
  }

  readonly sequences: readonly LlamaContextSequence[];

  static async load(path: string, config: ReturnType<typeof llmTestConfig>["llm"]): Promise<Bare> {
    const llama = await getLlama({ gpu: false, build: "never", maxThreads: config.threads, logLevel: "error" as never, logger: () => undefined });
    const model = await llama.loadModel({ modelPath: path, gpuLayers: config.gpuLayers === "auto" ? "auto" : config.gpuLayers });
    const context = await model.createContext({ sequences: config.parallel, contextSize: config.contextSize, threads: config.threads });
    return new Bare(llama, model, context);
  }

  /**
   * All prompts, P at once: a chat session on a pooled sequence per prompt, the same system prompt,
   * maxTokens and temperature as the engine, the sequence's history cleared before it is reused (as the
   * engine does, so no prompt starts from another's cached prefix). Tokens are counted after the clock.
   */
  async run(prompts: readonly TextRecord[], parallel: number): Promise<{ texts: string[]; ms: number[] }> {
    const ms: number[] = new Array(prompts.length);
    const texts = await pool(prompts, parallel, async (p, i) => {
      const t0 = performance.now();
      const sequence = this.free.pop()!;
      const session = new LlamaChatSession({ contextSequence: sequence, systemPrompt: p.system, autoDisposeSequence: false });
      try {
        return await session.prompt(p.user, { maxTokens: p.maxTokens, temperature: 0.3 });
      } finally {
        session.dispose({ disposeSequence: false });
        await sequence.clearHistory();
        this.free.push(sequence);
        ms[i] = performance.now() - t0;
      }
    });
    return { texts, ms };
  }

  countTokens(text: string): number {
    return this.model.tokenize(text).length;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------


// ---------------------------------------------------------------------------------------------------
// The run, step by step

async function main(): Promise<number> {
  const cleanups = new Cleanups(voice.log);
  cleanups.exitOnSignal("interrupted; removing the model and database …", ["SIGINT", "SIGTERM"]);
  try {
    say(`LLM drafting benchmark: ${N} conversations, ${P} in parallel, maxDraftTokens ${T}, seed ${SEED}`);
    say(`machine: ${machine()}; llama.cpp on CPU, 1 thread (no GPU in this run)`);
    say();
    const dir = mkdtempSync(join(tmpdir(), "draftgate-bench-llm-"));
    cleanups.add("temp folder", () => rmSync(dir, { recursive: true, force: true }));

    const { config, llm, bare } = await loadModels(dir, cleanups);
    const store = await ingestConversations(config, cleanups);
    const draftJobs = await triageAll(store, llm, config);
    say();
    const run = await measurePasses(store, llm, bare, config, draftJobs);
    const deltaEvents = await checkDrafts(store, run);
    reportResult(run, bare);
    reportTimeSplit(run, deltaEvents);
    if (args["cpu-prof"]) await profileGatewayPass(store, llm, config, draftJobs);
    return 0;
  } finally {
    await cleanups.runAll();
  }
}

/** Setup, untimed: the tiny model written once and loaded twice, as the gateway's engine and as bare node-llama-cpp. */
async function loadModels(dir: string, cleanups: Cleanups): Promise<{ config: Config; llm: LlmService; bare: Bare }> {
  const t0 = performance.now();
  const modelPath = join(dir, "tiny.gguf");
  writeTinyGguf(modelPath, TINY_SHAPE);
  const config = llmTestConfig({ model: modelPath, parallel: P, llm: { maxDraftTokens: T } });
  const llm = await LlmService.start(config, log);
  if (!llm.engine) throw new Error(`gateway model did not load: ${llm.status.message}`);
  cleanups.add("gateway model", () => llm.dispose());
  const bare = await Bare.load(modelPath, config.llm);
  cleanups.add("bare model", () => bare.dispose());
  say(`setup: tiny model (${TINY_SHAPE.layers} layers, embd ${TINY_SHAPE.embd}, vocab ${TINY_SHAPE.vocabPadding}) written and loaded twice (gateway engine + bare instance, same file and options) in ${fmt.s(secondsSince(t0))}`);
  return { config, llm, bare };
}

/** Setup, untimed: N composed customer messages through Intake into a fresh SQLite store, one conversation each. */
async function ingestConversations(config: Config, cleanups: Cleanups): Promise<Store> {
  const t0 = performance.now();
  const db = await freshDatabase("sqlite", "unused");
  cleanups.add("database", () => db.drop());
  const store = await Store.open(db.url);
  cleanups.add("store", () => store.close());
  await store.migrate();
  const messages = await benchMessages(N, SEED);
  const mailbox = await ensureMailbox(store, "support", "support@example.com");
  const outcomes = await new Intake(store, intakeOptions(config)).ingest(
    { id: mailbox.id, address: mailbox.address },
    messages.map((m) => ({ raw: m.raw, source: "bench", sourceRef: null })),
  );
  const stored = outcomes.filter((o) => o.kind === "stored");
  if (stored.length !== N) throw new Error(`intake stored ${stored.length} of ${N} messages: ${JSON.stringify(outcomes.filter((o) => o.kind !== "stored"))}`);
  const conversations = new Set(stored.map((o) => (o as { conversationId: number }).conversationId)).size;
  if (conversations !== N) throw new Error(`expected ${N} conversations, intake made ${conversations}`);
  const langs = messages.reduce<Record<string, number>>((acc, m) => ((acc[m.lang] = (acc[m.lang] ?? 0) + 1), acc), {});
  say(
    `setup: ${N} messages composed (${Object.entries(langs).map(([k, v]) => `${v} ${k}`).join(", ")}; ${messages.filter((m) => m.html).length} with HTML, ` +
      `${messages.filter((m) => m.quoted).length} with quoted history; ${Math.round(messages.reduce((a, m) => a + m.bytes, 0) / N)} B average) and ingested in ${fmt.s(secondsSince(t0))}`,
  );
  return store;
}

const jobsOf = (store: Store, type: string) => store.read((em) => em.getRepository<JobRow>("Job").find({ where: { type }, order: { id: "ASC" } }));

/** Setup, untimed: every message triaged by the model (P at once), so each draft job exists with its triage. */
async function triageAll(store: Store, llm: LlmService, config: Config): Promise<JobRow[]> {
  const t0 = performance.now();
  const triage = triageHandler({ store, llm, config, log });
  const triageJobs = await jobsOf(store, "triage");
  if (triageJobs.length !== N) throw new Error(`expected ${N} triage jobs, found ${triageJobs.length}`);
  expectDone("triage", await pool(triageJobs, P, (job) => triage(job, ctx())));
  const draftJobs = await jobsOf(store, "draft");
  if (draftJobs.length !== N) throw new Error(`expected ${N} draft jobs after triage, found ${draftJobs.length}`);
  say(`setup: ${N} messages triaged by the model (${P} at once) in ${fmt.s(secondsSince(t0))}; ${draftJobs.length} draft jobs queued`);
  return draftJobs;
}

interface MeasuredRun {
  /** The draft handler's prompts, captured before the timed passes. */
  prompts: TextRecord[];
  /** The capture loop's time: the handler's own work without a model, one draft at a time. */
  handlerMs: number;
  /** The gateway pass's model calls, each tagged with its job. */
  recorder: RecordingEngine;
  dbTimes: DbTimes;
  /** Start and end of each draft job in the gateway pass. */
  jobTimes: { start: number; end: number }[];
  prompt1: PassResult;
  bare1: PassResult & { extra: { ms: number[] } };
  gateway: PassResult;
  bare2: PassResult & { extra: { ms: number[] } };
  prompt2: PassResult;
}

/** The timed passes, in this order: bare prompt-only, bare, gateway (instrumented), bare, bare prompt-only. */
async function measurePasses(store: Store, llm: LlmService, bare: Bare, config: Config, draftJobs: JobRow[]): Promise<MeasuredRun> {
  const engine = llm.engine!;
  const recorder = new RecordingEngine(engine);
  const gatewayLlm = Object.create(llm, { engine: { value: recorder } }) as LlmService;
  const dbTimes: DbTimes = { tx: { n: 0, ms: 0 }, read: { n: 0, ms: 0 }, txDuringGeneration: 0 };
  const draft = draftHandler({ store: timedStore(store, dbTimes, () => recorder.active > 0), llm: gatewayLlm, config, log });
  const jobTimes: { start: number; end: number }[] = [];
  // Diagnostics only: the engine's sequence pool is private; its sequences' token meters (exact sampled
  // tokens) are read when the field is there (all sequences are idle here), and the report says n/a otherwise.
  const enginePool = (engine as unknown as { free?: LlamaContextSequence[] }).free;
  const gatewayMeter = Array.isArray(enginePool) && enginePool.length === P ? [...enginePool] : null;

  // A short untimed warm-up of both (first-call allocations, JIT) on a prompt that is not measured.
  await bare.run([{ system: "You are a warm-up.", user: "Say something.", maxTokens: 8, start: 0, end: 0, tokens: 0, text: "", aborted: false }], 1);
  await engine.text({ system: "You are a warm-up.", user: "Say something.", maxTokens: 8 });

  // The first bare pass runs before the gateway pass, so it needs the gateway's prompts beforehand:
  // they are captured untimed by the draft handler itself on a copy of the database (capturePrompts),
  // and the gateway pass's recorded prompts are checked to be the same set.
  const { prompts, handlerMs } = await capturePrompts(store, config, llm, draftJobs);

  const bareTokens = (out: { texts: string[] }) => out.texts.reduce((a, t) => a + bare.countTokens(t), 0);
  // Prompt-only passes (bare, maxTokens 1): the part of the bare time that does not depend on how many
  // tokens come out. Informational: they give the length-adjusted overhead.
  const promptOnly = () => bare.run(prompts.map((p) => ({ ...p, maxTokens: 1 })), P);
  const prompt1 = await measure("bare, prompt only", bare.sequences, promptOnly, bareTokens);
  const bare1 = await measure("bare (before)", bare.sequences, () => bare.run(prompts, P), bareTokens);
  const gateway = await measure(
    "gateway",
    gatewayMeter,
    () =>
      pool(draftJobs, P, async (job, i) => {
        const start = performance.now();
        const r = await currentJob.run(i, () => draft(job, ctx()));
        jobTimes[i] = { start, end: performance.now() };
        return r;
      }),
    // The engine's own count (model.tokenize(text).length), as stored in drafts.tokens.
    () => recorder.calls.reduce((a, c) => a + c.tokens, 0),
  );
  expectDone("draft", gateway.extra);
  const bare2 = await measure("bare (after)", bare.sequences, () => bare.run(recorder.calls, P), bareTokens);
  const prompt2 = await measure("bare, prompt only", bare.sequences, promptOnly, bareTokens);
  return { prompts, handlerMs, recorder, dbTimes, jobTimes, prompt1, bare1, gateway, bare2, prompt2 };
}

/** Every draft stored as the engine reported it, and the prompts the same as the baseline's; the draft.delta events written. */
async function checkDrafts(store: Store, run: MeasuredRun): Promise<number> {
  const { recorder, gateway, prompts } = run;
  const drafts = await store.read((em) => em.getRepository<DraftRow>("Draft").find({ order: { id: "ASC" } }));
  const modelDrafts = drafts.filter((d) => d.status === "pending" && d.origin === "model");
  if (modelDrafts.length !== N) throw new Error(`expected ${N} pending model drafts, found ${drafts.map((d) => `${d.status}/${d.origin}`).join(", ")}`);
  if (recorder.calls.length !== N) throw new Error(`expected ${N} engine.text calls, recorded ${recorder.calls.length}`);
  const storedTokens = modelDrafts.reduce((a, d) => a + (d.tokens ?? 0), 0);
  if (storedTokens !== gateway.tokens) throw new Error(`stored drafts count ${storedTokens} tokens, the engine reported ${gateway.tokens}`);
  const promptKey = (p: { system: string; user: string; maxTokens: number }) => `${p.maxTokens}\0${p.system}\0${p.user}`;
  const captured = new Set(prompts.map(promptKey));
  const differing = recorder.calls.filter((c) => !captured.has(promptKey(c))).length;
  if (differing > 0) throw new Error(`${differing} prompts of the gateway pass differ from the captured ones`);
  const events = await store.read((em) => em.getRepository<EventRow>("Event").find({ where: { type: "draft.delta" } }));
  return events.length;
}

const perToken = (r: PassResult) => r.seconds / Math.max(1, r.tokens);

/** The passes, the goal's per-token overhead with its verdict, and the two informational overheads. */
function reportResult(run: MeasuredRun, bare: Bare): void {
  const { recorder, prompt1, bare1, gateway, bare2, prompt2 } = run;
  const bareSecPerToken = (perToken(bare1) + perToken(bare2)) / 2;
  const bareSeconds = (bare1.seconds + bare2.seconds) / 2;
  const overhead = perToken(gateway) / bareSecPerToken - 1;
  const wallOverhead = gateway.seconds / bareSeconds - 1;
  // Length-adjusted: bare time ≈ Q + g × (sampled − q), Q and q from the prompt-only passes, g (seconds
  // per further sampled token) from the two bare passes; the gateway is compared with that model's time
  // for as many tokens as the gateway sampled. Sampled = the contexts' token meters (exact), or the
  // re-tokenized output counts when the engine's meter cannot be read.
  const exact = gateway.meter !== null;
  const sampledOf = (r: PassResult) => (exact ? r.meter!.output : r.tokens);
  const Q = (prompt1.seconds + prompt2.seconds) / 2;
  const q = (sampledOf(prompt1) + sampledOf(prompt2)) / 2;
  const g = ((bare1.seconds - Q) / Math.max(1, sampledOf(bare1) - q) + (bare2.seconds - Q) / Math.max(1, sampledOf(bare2) - q)) / 2;
  const expected = Q + g * (sampledOf(gateway) - q);
  const adjusted = gateway.seconds / expected - 1;
  const promptTokens = recorder.calls.reduce((a, c) => a + bare.countTokens(c.system) + bare.countTokens(c.user), 0);

  say(`prompts: ${N}, the gateway's own (captured by a recording LlmEngine), ${Math.round(promptTokens / N)} prompt tokens on average; maxTokens ${T}`);
  say("bare: a second model instance (same file, getLlama/loadModel/createContext options as LlamaCppEngine.load), LlamaChatSession on P pooled sequences");
  say();
  const promptOnly = (r: PassResult) => r === prompt1 || r === prompt2;
  say(
    table(
      [
        ["pass", "wall", "generated", "tokens/s", "ms/token", "sampled (meter)", "main thread busy", "CPU"],
        ...[prompt1, bare1, gateway, bare2, prompt2].map((r) => {
          const sampled = r.meter ? `${r.meter.output}${promptOnly(r) ? "" : ` of ${N * T}`}` : "n/a";
          const rate = promptOnly(r) ? ["-", "-"] : [fmt.tps(r.tokens / r.seconds), (1000 * perToken(r)).toFixed(2)];
          return [r.label, fmt.s(r.seconds), `${r.tokens} tok`, ...rate, sampled, `${(r.elu * 100).toFixed(0)} %`, fmt.s(r.cpu)];
        }),
      ],
      { rule: true },
    ),
  );
  say(`bare baseline = mean of the two bare passes (they differ by ${fmt.pct(perToken(bare2) / perToken(bare1) - 1)} per token, ${fmt.pct(bare2.seconds / bare1.seconds - 1)} in wall time)`);
  say();
  say(
    table(
      [
        ["N", "P", "bare tokens/s", "gateway tokens/s", "overhead", "goal", "result"],
        [String(N), String(P), fmt.tps(1 / bareSecPerToken), fmt.tps(1 / perToken(gateway)), fmt.pct(overhead), "≤ 10 %", overhead <= GOAL_OVERHEAD ? "PASS" : "MISS"],
      ],
      { rule: true },
    ),
  );
  say(`overhead = gateway seconds per generated token / bare seconds per generated token − 1 (the goal's measure). Also:`);
  const judge = (v: number) => (v <= GOAL_OVERHEAD ? "PASS" : "MISS");
  say(`  wall-time overhead (same prompts, whatever the output length):  ${fmt.pct(wallOverhead).padStart(8)}  (${judge(wallOverhead)} against 10 %, informational)`);
  say(`  length-adjusted overhead (see below):                           ${fmt.pct(adjusted).padStart(8)}  (${judge(adjusted)} against 10 %, informational)`);
  const unit = exact ? "sampled" : "generated (re-tokenized)";
  say(`  bare time model: ${fmt.s(Q)} for the prompts (prompt-only passes, ${Math.round(q)} tokens ${unit}) + ${(g * 1000).toFixed(2)} ms per further token ${unit};`);
  say(`  for the gateway's ${sampledOf(gateway)} tokens it predicts ${fmt.s(expected)} (gateway: ${fmt.s(gateway.seconds)}). Prompt processing is ${Math.round((100 * Q) / bareSeconds)} % of the bare time,`);
  say(`  so the per-token ratio follows the random output lengths (fewer than ${N} × ${T} sampled: some outputs ended at an end-of-turn token) more than the gateway.`);
  if (gateway.meter && bare1.meter && bare2.meter)
    say(`  input tokens evaluated (meters): gateway ${gateway.meter.input}, bare ${bare1.meter.input} / ${bare2.meter.input}`);
  say();
}

/** Where the gateway's time goes: each draft job before, inside and after its model call; database, token counting, threads. */
function reportTimeSplit(run: MeasuredRun, deltaEvents: number): void {
  const { recorder, jobTimes, dbTimes, handlerMs, gateway, bare1, bare2 } = run;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const callOf = new Map(recorder.calls.map((c) => [c.job, c]));
  const spans = jobTimes.map((j, i) => ({ ...j, call: callOf.get(i)! }));
  if (spans.some((s) => !s.call)) throw new Error("could not pair a draft job with its model call");
  const preMs = sum(spans.map((s) => s.call.start - s.start));
  const genMs = sum(spans.map((s) => s.call.end - s.call.start));
  const postMs = sum(spans.map((s) => s.end - s.call.end));
  const totalJobMs = preMs + genMs + postMs;
  const line = (name: string, ms: number, note = "") =>
    say(`  ${name.padEnd(26)} ${fmt.ms1(ms).padStart(10)}  ${((100 * ms) / totalJobMs).toFixed(1).padStart(5)} %  ${(ms / N).toFixed(1).padStart(6)} ms/draft${note ? `  ${note}` : ""}`);
  say(`where the gateway's time goes (each phase summed over the ${N} drafts; ${P} run at once, so the sum exceeds the wall time):`);
  line("before the model call", preMs, "(superseded check, DB reads, templates, token counting, draft row + draft.started; includes waiting for the main thread)");
  line("model call (engine.text)", genMs, "(chat session on a pooled sequence; streamed text flushed to events meanwhile)");
  line("after the model call", postMs, "(last flush, superseded check, draft update + draft.ready)");
  say(`  the handler's own work without a model, one draft at a time (prompt capture on a database copy): ${(handlerMs / N).toFixed(1)} ms/draft;`);
  say(`  the rest of "before the model call" is waiting: for the main thread (busy with node-llama-cpp's chat-template rendering and`);
  say(`  tokenizing of the other drafts' prompts) and for SQLite's write queue`);
  const busy = (ms: number, r: PassResult) => `${((100 * ms) / (P * r.seconds * 1000)).toFixed(0)} %`;
  say(`  sequences busy with a model call: gateway ${busy(genMs, gateway)} of P × wall, bare ${busy(sum(bare1.extra.ms), bare1)} / ${busy(sum(bare2.extra.ms), bare2)} ` +
    `(a sequence idles while its draft job does the work before and after the call)`);
  say(`  database: ${dbTimes.read.n} reads ${fmt.ms1(dbTimes.read.ms)}, ${dbTimes.tx.n} transactions ${fmt.ms1(dbTimes.tx.ms)} ` +
    `(${dbTimes.txDuringGeneration} of them while a model call ran; ${deltaEvents} draft.delta events from the 250 ms stream flush)`);
  say(`  token counting (countTokens): ${recorder.countCalls} calls, ${fmt.ms1(recorder.countMs)}`);
  say(`  main thread busy: gateway ${(gateway.elu * 100).toFixed(0)} %, bare ${(bare1.elu * 100).toFixed(0)} % / ${(bare2.elu * 100).toFixed(0)} %; ` +
    `process CPU: gateway ${fmt.s(gateway.cpu)}, bare ${fmt.s(bare1.cpu)} / ${fmt.s(bare2.cpu)}`);
}

/** --cpu-prof: one more gateway pass (drafts deleted first) under the V8 profiler; not part of the result. */
async function profileGatewayPass(store: Store, llm: LlmService, config: Config, draftJobs: JobRow[]): Promise<void> {
  say();
  say("CPU profile of one more gateway pass (same jobs, drafts deleted first; not part of the result):");
  await store.tx(async (em) => {
    await em.createQueryBuilder().delete().from("drafts").execute();
  });
  const again = draftHandler({ store, llm, config, log });
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  const p0 = performance.now();
  expectDone("draft (profiled)", await pool(draftJobs, P, (job) => again(job, ctx())));
  const { profile } = await session.post("Profiler.stop");
  session.disconnect();
  const file = join(tmpdir(), `draftgate-bench-llm-${process.pid}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  say(`profiled pass: ${fmt.s(secondsSince(p0))}; profile kept at ${file}`);
  say(summarizeCpuProfile(JSON.stringify(profile), 15, repoRoot));
}

/**
 * The exact prompts of the draft handler for these jobs, captured outside the measured passes: the handler
 * runs on a copy of the database with an engine whose text() records the call and returns at once (no
 * model), one job after another, and the copy is thrown away. The gateway pass later checks that its
 * prompts are the same set. The time of this loop is the handler's own work without a model or contention.
 */
async function capturePrompts(store: Store, config: Config, llm: LlmService, jobs: JobRow[]): Promise<{ prompts: TextRecord[]; handlerMs: number }> {
  const copyDir = mkdtempSync(join(tmpdir(), "draftgate-bench-llm-copy-"));
  try {
    const copyPath = join(copyDir, "copy.sqlite");
    await store.ds.query(`VACUUM INTO '${copyPath.replace(/'/g, "''")}'`);
    const copy = await Store.open(`sqlite:${copyPath}`);
    try {
      const real = llm.engine!;
      const calls: TextRecord[] = [];
      const dry: LlmEngine = {
        info: real.info,
        json: (c) => real.json(c),
        embed: (t) => real.embed(t),
        countTokens: (t) => real.countTokens(t),
        dispose: async () => undefined,
        text: async (c) => {
          calls.push({ system: c.system, user: c.user, maxTokens: c.maxTokens, start: 0, end: 0, tokens: 0, text: "", aborted: false });
          return { text: "", aborted: false, tokens: 0, ms: 0 };
        },
      };
      const handler = draftHandler({ store: copy, llm: Object.create(llm, { engine: { value: dry } }) as LlmService, config, log });
      const t0 = performance.now();
      for (const job of jobs) await handler(job, ctx());
      const handlerMs = performance.now() - t0;
      if (calls.length !== jobs.length) throw new Error(`prompt capture: ${calls.length} prompts for ${jobs.length} jobs`);
      return { prompts: calls, handlerMs };
    } finally {
      await copy.close();
    }
  } finally {
    rmSync(copyDir, { recursive: true, force: true });
  }
}

function expectDone(what: string, results: (JobOutcome | void)[]): void {
  const bad = results.map((r, i) => ({ i, r })).filter(({ r }) => !r || r.status !== "done");
  if (bad.length > 0) throw new Error(`${bad.length} ${what} jobs did not finish "done": ${JSON.stringify(bad.slice(0, 3))}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench/llm: error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
