import { DraftgateError } from "../core/errors.js";

/** Raised when the configuration is invalid; `problems` lists every bad value with its path. */
export class ConfigError extends DraftgateError {
  declare readonly code: "ECONFIG";
  constructor(readonly problems: string[]) {
    super("ECONFIG", `invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}
