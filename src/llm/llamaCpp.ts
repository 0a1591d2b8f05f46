import { stat } from "node:fs/promises";
import { basename } from "node:path";
import {
  getLlama,
  LlamaChatSession,
  LlamaLogLevel,
  type GbnfJsonSchema,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
} from "node-llama-cpp";
import type { Config } from "../config/schema.js";
import { DraftgateError } from "../core/errors.js";
import type { Logger } from "../obs/logger.js";
import type { JsonCall, LlmEngine, ModelInfo, TextCall, Usage } from "./engine.js";

const EMBED_CONTEXT = 512;

/** The model could not be loaded (file missing, llama.cpp failing to start, no room for the context). */
export class ModelLoadError extends DraftgateError {
  constructor(message: string) {
    super("EMODEL", message);
  }
}

/**
 * The node-llama-cpp adapter: one model per process, one context whose `llm.parallel` sequences are a
 * pool (a sequence is reused, never disposed per call: disposing a chat session does not free it),
 * and a separate embedding context. Prebuilt binaries only: it never compiles at run time.
 */
export class LlamaCppEngine implements LlmEngine {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiting: ((s: LlamaContextSequence) => void)[] = [];
  private embedding: Promise<LlamaEmbeddingContext> | null = null;

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    readonly info: ModelInfo,
    private readonly threads: number,
  ) {
    while (context.sequencesLeft > 0) this.free.push(context.getSequence());
  }

  static async load(path: string, llm: Config["llm"], log: Logger): Promise<LlamaCppEngine> {
    const size = await stat(path).then((s) => s.size).catch(() => {
      throw new ModelLoadError(`model file not found: ${path} (run \`draftgate model pull\`)`);
    });
    let llama: Llama;
    try {
      llama = await getLlama({
        gpu: llm.gpu,
        build: "never",
        ...(llm.threads > 0 ? { maxThreads: llm.threads } : {}),
        logLevel: LlamaLogLevel.error,
        logger: (level, message) => log.debug({ component: "llama.cpp", level }, message.trim()),
      });
    } catch (err) {
      throw new ModelLoadError(`llama.cpp could not start (gpu: ${String(llm.gpu)}): ${(err as Error).message}`);
    }
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path, gpuLayers: llm.gpuLayers === "auto" ? "auto" : llm.gpuLayers });
    } catch (err) {
      await llama.dispose().catch(() => undefined);
      throw new ModelLoadError(`cannot load model ${path}: ${(err as Error).message} (is it a complete GGUF file? \`draftgate model pull\` fetches it again)`);
    }
    const threads = llm.threads > 0 ? llm.threads : 0;
    let context: LlamaContext;
    try {
      context = await model.createContext({ sequences: llm.parallel, contextSize: llm.contextSize, ...(threads ? { threads } : {}) });
    } catch (err) {
      await model.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
      throw new ModelLoadError(`cannot create a context of ${llm.parallel} × ${llm.contextSize} tokens: ${(err as Error).message}`);
    }
    const info: ModelInfo = {
      path,
      name: String(model.fileInfo.metadata?.general?.name ?? basename(path)),
      architecture: String(model.fileInfo.metadata?.general?.architecture ?? "unknown"),
      sizeBytes: size,
      trainedContext: model.trainContextSize,
      gpu: llama.gpu,
      gpuLayers: model.gpuLayers,
      totalLayers: model.fileInsights.totalLayers,
      parallel: llm.parallel,
      contextSize: context.contextSize,
    };
    return new LlamaCppEngine(llama, model, context, info, threads);
  }

  async json(call: JsonCall): Promise<Usage & { value: unknown }> {
    // The port takes any JSON schema object; the grammar builder takes the subset it can compile (it
    // throws on anything else), which is what the callers' schemas are written in.
    const grammar = await this.llama.createGrammarForJsonSchema<GbnfJsonSchema>(call.schema as GbnfJsonSchema);
    return this.withSession(call.system, async (session, started) => {
      let generated = 0;
      const out = await session.promptWithMeta(call.user, { grammar, maxTokens: call.maxTokens, signal: call.signal, temperature: 0, onToken: (t) => (generated += t.length) });
      return { value: parseModelJson(out.responseText), tokens: generated, ms: Date.now() - started };
    });
  }

  async text(call: TextCall): Promise<Usage & { text: string; aborted: boolean }> {
    return this.withSession(call.system, async (session, started) => {
      let partial = "";
      // Tokens as sampled (re-tokenizing the text would count differently, e.g. an added leading space).
      let generated = 0;
      const onTextChunk = (chunk: string) => {
        partial += chunk;
        call.onText?.(chunk);
      };
      try {
        const out = await session.promptWithMeta(call.user, {
          maxTokens: call.maxTokens,
          signal: call.signal,
          stopOnAbortSignal: true,
          onTextChunk,
          onToken: (t) => (generated += t.length),
          temperature: 0.3,
        });
        return { text: out.responseText, aborted: out.stopReason === "abort", tokens: generated, ms: Date.now() - started };
      } catch (err) {
        // Aborted before the first token: node-llama-cpp throws the signal's reason instead of returning.
        if (call.signal?.aborted) return { text: partial, aborted: true, tokens: generated, ms: Date.now() - started };
        throw err;
      }
    });
  }

  async embed(text: string): Promise<number[]> {
    this.embedding ??= this.model.createEmbeddingContext({ contextSize: EMBED_CONTEXT, ...(this.threads ? { threads: this.threads } : {}) });
    const ctx = await this.embedding;
    // Only the start of a long text is embedded: similarity needs the gist, not every token.
    const tokens = this.model.tokenize(text).slice(0, EMBED_CONTEXT - 8);
    return [...(await ctx.getEmbeddingFor(tokens)).vector];
  }

  countTokens(text: string): number {
    return this.model.tokenize(text).length;
  }

  async dispose(): Promise<void> {
    await this.embedding?.then((e) => e.dispose()).catch(() => undefined);
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  /** Runs `fn` with a chat session on a pooled sequence, waiting for a free one. */
  private async withSession<T>(system: string, fn: (session: LlamaChatSession, started: number) => Promise<T>): Promise<T> {
    const sequence = this.free.pop() ?? (await new Promise<LlamaContextSequence>((resolve) => this.waiting.push(resolve)));
    const session = new LlamaChatSession({ contextSequence: sequence, systemPrompt: system, autoDisposeSequence: false });
    try {
      return await fn(session, Date.now());
    } finally {
      session.dispose({ disposeSequence: false });
      await sequence.clearHistory().catch(() => undefined);
      const next = this.waiting.shift();
      if (next) next(sequence);
      else this.free.push(sequence);
    }
  }
}

/** The model's JSON, or null when it is not JSON at all (cut off by maxTokens). The caller validates it. */
function parseModelJson(text: string): unknown {
  // Not grammar.parse(): its schema check counts string lengths differently from the grammar that
  // produced them, and rejects output our own validator accepts or reports precisely.
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
