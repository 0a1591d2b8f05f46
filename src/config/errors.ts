/** Raised when the configuration is invalid; `problems` lists every bad value with its path. */
export class ConfigError extends Error {
  readonly code = "ECONFIG";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}
