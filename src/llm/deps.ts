import type { Config } from "../config/schema.js";
import type { Logger } from "../obs/logger.js";
import type { Store } from "../store/store.js";
import type { LlmService } from "./service.js";

/** What the LLM jobs (triage, draft, embed-reply) run with. */
export interface LlmJobDeps {
  store: Store;
  log: Logger;
  config: Config;
  /** The model of this process; its engine is null when no model could be loaded (rules and templates). */
  llm: LlmService;
}
