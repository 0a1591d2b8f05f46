import type { Config } from "../config/schema.js";
import type { Logger } from "../obs/logger.js";
import type { LlmEngine, ModelInfo } from "./engine.js";
import { LlamaCppEngine } from "./llamaCpp.js";
import { locateModel } from "./modelFile.js";

export type LlmState = "ready" | "none" | "missing" | "error";

export interface LlmStatus {
  state: LlmState;
  /** Plain words for logs, doctor and the page. */
  message: string;
  info?: ModelInfo;
}

/**
 * The model of this process, or the plain reason there is none. Without a model the gateway keeps
 * working: triage falls back to rules and drafts to templates, and everything says so.
 */
export class LlmService {
  private constructor(
    readonly engine: LlmEngine | null,
    readonly status: LlmStatus,
  ) {}

  static none(message = "no model configured (llm.model is empty)"): LlmService {
    return new LlmService(null, { state: "none", message });
  }

  static async start(config: Config, log: Logger): Promise<LlmService> {
    const where = locateModel(config.llm);
    if (where.state === "none") return LlmService.none();
    if (where.state === "missing") return new LlmService(null, { state: "missing", message: `model ${where.uri}: ${where.reason}` });
    try {
      const engine = await LlamaCppEngine.load(where.path, config.llm, log);
      const i = engine.info;
      return new LlmService(engine, {
        state: "ready",
        message: `${i.name} (${i.architecture}) from ${i.path}, ${i.gpu ? `${i.gpu} with ${i.gpuLayers}/${i.totalLayers} layers offloaded` : "CPU"}`,
        info: i,
      });
    } catch (err) {
      return new LlmService(null, { state: "error", message: (err as Error).message });
    }
  }

  /** "model" when drafts and triage come from the model; what is used instead otherwise. */
  get label(): string {
    return this.engine ? "model" : "rules and templates (no model)";
  }

  async dispose(): Promise<void> {
    await this.engine?.dispose();
  }
}
