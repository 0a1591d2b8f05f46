/**
 * What every benchmark entry point does with its command line: parse the flags (strict, with -h/--help
 * printing the usage), check the numbers, pick the databases, and speak on stderr under its own name.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Dialect } from "./db.js";

export interface BenchVoice {
  /** A progress line on stderr: `<name>: <text>`. */
  log: (text: string) => void;
  /** The error on stderr, then exit 1 (a benchmark that cannot measure fails; a MISS does not). */
  fail: (message: string) => never;
}

export function benchVoice(name: string): BenchVoice {
  const log = (text: string) => void process.stderr.write(`${name}: ${text}\n`);
  return {
    log,
    fail: (message) => {
      log(message);
      process.exit(1);
    },
  };
}

type Options = NonNullable<ParseArgsConfig["options"]>;
const HELP = { help: { type: "boolean", short: "h", default: false } } as const;

/** Parses `process.argv` strictly; `-h`/`--help` prints `usage` and exits 0, a flag it does not know fails. */
export function parseBenchArgs<const O extends Options>(voice: BenchVoice, options: O, usage: string) {
  let values;
  try {
    ({ values } = parseArgs<{ options: O & typeof HELP; strict: true }>({ options: { ...options, ...HELP }, strict: true }));
  } catch (err) {
    return voice.fail(`${(err as Error).message.split("\n")[0]} (--help lists the flags)`);
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return values;
}

/** A whole-number flag of at least `min`; anything else ends the run with the flag's name in the message. */
export function intArg(voice: BenchVoice, name: string, value: string | undefined, min: 0 | 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) voice.fail(`--${name} must be a ${min === 0 ? "non-negative" : "positive"} integer (got ${value})`);
  return n;
}

/** `--only sqlite|mysql`, or both databases when it is absent. */
export function dialectsArg(voice: BenchVoice, only: string | undefined): Dialect[] {
  if (only === undefined) return ["sqlite", "mysql"];
  if (only !== "sqlite" && only !== "mysql") voice.fail(`--only must be sqlite or mysql (got ${only})`);
  return [only];
}

/**
 * The flags of the benchmarks that run the built gateway over the generated corpus, on SQLite and
 * MariaDB (import, IMAP): --count (default `defaultCount`), --seed, --only, --skip-build, --cpu-prof, --stages.
 */
export function corpusBenchOptions(defaultCount: number) {
  return {
    count: { type: "string", default: String(defaultCount) },
    seed: { type: "string", default: "1" },
    only: { type: "string" },
    "skip-build": { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    stages: { type: "boolean", default: false },
  } as const;
}

/** Usage lines of the flags that mean the same in every corpus benchmark, and of its MariaDB server. */
export const CORPUS_BENCH_USAGE =
  "  --seed S        PRNG seed of the generated corpus (default 1)\n" +
  "  --skip-build    do not run tsc before timing (dist/ must be current)\n" +
  "  env BENCH_MYSQL_URL  server for the MariaDB run (default mysql://root@127.0.0.1:3306)\n";

/** --count, --seed and --only of a corpus benchmark, checked. */
export function corpusBenchArgs(voice: BenchVoice, values: { count: string; seed: string; only?: string | undefined }) {
  return { count: intArg(voice, "count", values.count, 1), seed: intArg(voice, "seed", values.seed, 0), dialects: dialectsArg(voice, values.only) };
}
