import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { defaultConfigPath } from "./paths.js";
import { configSchema, type Config } from "./schema.js";

type Tree = Record<string, unknown>;
type Env = Record<string, string | undefined>;

export interface LoadOptions {
  env?: Env;
  /** Extra overrides applied last (CLI flags). */
  overrides?: Tree;
}

/**
 * Loads config/default.yaml, then the file named in DRAFTGATE_CONFIG, then DRAFTGATE_* variables,
 * then DATABASE_URL; resolves `<name>_FILE` secrets; validates once and lists every problem.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];

  let tree = readYaml(defaultConfigPath, problems);
  const extra = envValue(env, "DRAFTGATE_CONFIG", problems);
  if (extra) tree = deepMerge(tree, readYaml(resolve(extra), problems));
  applyEnvOverrides(tree, env, problems);
  const dbUrl = envValue(env, "DATABASE_URL", problems);
  if (dbUrl) tree = deepMerge(tree, { database: { url: dbUrl } });
  if (options.overrides) tree = deepMerge(tree, options.overrides);
  tree = resolveFileSecrets(tree, [], problems) as Tree;

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) problems.push(...parsed.error.issues.map(formatIssue));
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data!;
}

function readYaml(path: string, problems: string[]): Tree {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    problems.push(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return {};
  }
  try {
    const value: unknown = parseYaml(text) ?? {};
    if (!isPlainObject(value)) {
      problems.push(`${path}: the top level must be a mapping`);
      return {};
    }
    return value;
  } catch (err) {
    problems.push(`${path}: ${(err as Error).message.split("\n")[0]}`);
    return {};
  }
}

/** A variable's value, or the contents of the file its `_FILE` twin names (Docker/Kubernetes secrets). */
function envValue(env: Env, name: string, problems: string[]): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
      return undefined;
    }
  }
  return env[name] || undefined;
}

/**
 * DRAFTGATE_HTTP__PORT=3001 → { http: { port: 3001 } }. `__` nests; within a segment, case and
 * underscores are ignored when matching keys (DRAFTGATE_LLM__GPU_LAYERS → llm.gpuLayers); numeric
 * segments index arrays (DRAFTGATE_MAILBOXES__0__IMAP__PASSWORD). A key the schema types as text (a
 * string, or an enum or literal of strings) takes the value exactly as given: passwords are typed as they
 * are, and YAML would unquote 'abc', cut `pa55 #x` at the comment and turn 123456 into a number. Every
 * other key reads the value as YAML (numbers, booleans, `[a, b]`, `{since: 7}`).
 */
function applyEnvOverrides(out: Tree, env: Env, problems: string[]): void {
  const names = Object.keys(env)
    .filter((k) => k.startsWith("DRAFTGATE_") && k !== "DRAFTGATE_CONFIG" && k !== "DRAFTGATE_CONFIG_FILE")
    .sort();
  for (const name of names) {
    const isFile = name.endsWith("_FILE");
    const base = isFile ? name.slice(0, -5) : name;
    if (!isFile && env[`${name}_FILE`] !== undefined) continue; // the _FILE twin wins
    const raw = envValue(env, base, problems);
    if (raw === undefined) continue;
    const path = base.slice("DRAFTGATE_".length).split("__").filter(Boolean);
    if (path.length === 0) continue;
    setPath(out, path, (shape) => (isFile || isText(shape) ? raw : yamlScalar(raw)));
  }
}

function yamlScalar(raw: string): unknown {
  try {
    return parseYaml(raw);
  } catch {
    return raw;
  }
}

const canon = (s: string) => s.replace(/_/g, "").toLowerCase();

/** Sets a value at an env-style path, matching keys of the schema's shape loosely; `valueFor` gets the schema there. */
function setPath(tree: Tree, path: string[], valueFor: (shape: z.ZodType | undefined) => unknown): void {
  let node: Record<string, unknown> | unknown[] = tree;
  let shape: z.ZodType | undefined = configSchema;
  for (let i = 0; i < path.length; i++) {
    const last = i === path.length - 1;
    const segment = path[i]!;
    let key: string | number;
    const objectShape = shapeOf(shape);
    if (/^\d+$/.test(segment) && Array.isArray(node)) {
      key = Number(segment);
      shape = elementOf(shape);
    } else {
      const known = objectShape ? Object.keys(objectShape).find((k) => canon(k) === canon(segment)) : undefined;
      key = known ?? segment.toLowerCase();
      shape = objectShape ? objectShape[key] : valueOfRecord(shape);
    }
    if (last) {
      (node as Record<string | number, unknown>)[key] = valueFor(shape);
      return;
    }
    const nextIsIndex = /^\d+$/.test(path[i + 1]!);
    const existing = (node as Record<string | number, unknown>)[key];
    if (existing === undefined || typeof existing !== "object" || existing === null) {
      (node as Record<string | number, unknown>)[key] = nextIsIndex ? [] : {};
    }
    node = (node as Record<string | number, unknown>)[key] as Record<string, unknown> | unknown[];
  }
}

function unwrap(shape: z.ZodType | undefined): z.ZodType | undefined {
  let s = shape as unknown as { _zod?: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } } | undefined;
  while (s?._zod && ["default", "prefault", "optional", "nullable", "pipe"].includes(s._zod.def.type)) {
    s = (s._zod.def.innerType ?? s._zod.def.in);
  }
  return s as z.ZodType | undefined;
}

function shapeOf(shape: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  const s = unwrap(shape) as unknown as { shape?: Record<string, z.ZodType> } | undefined;
  return s?.shape;
}

function elementOf(shape: z.ZodType | undefined): z.ZodType | undefined {
  const s = unwrap(shape) as unknown as { element?: z.ZodType } | undefined;
  return s?.element;
}

/** The value schema of a record (triage.mailboxDefaults.<mailbox>); undefined for anything else. */
function valueOfRecord(shape: z.ZodType | undefined): z.ZodType | undefined {
  const def = (unwrap(shape) as unknown as { _zod?: { def: { type: string; valueType?: z.ZodType } } } | undefined)?._zod?.def;
  return def?.type === "record" ? def.valueType : undefined;
}

/** True when the schema accepts text only: a string, or an enum, literal or union of strings. */
function isText(shape: z.ZodType | undefined): boolean {
  const def = (unwrap(shape) as unknown as { _zod?: { def: ZodDef } } | undefined)?._zod?.def;
  if (!def) return false;
  switch (def.type) {
    case "string":
      return true;
    case "enum":
      return Object.values(def.entries ?? {}).every((v) => typeof v === "string");
    case "literal":
      return (def.values ?? []).every((v) => typeof v === "string");
    case "union":
      return (def.options ?? []).every((o) => isText(o));
    default:
      return false;
  }
}

interface ZodDef {
  type: string;
  entries?: Record<string, unknown>;
  values?: unknown[];
  options?: z.ZodType[];
}

/** `password_FILE: /run/secrets/pw` anywhere in the tree becomes `password: <contents>`. */
function resolveFileSecrets(node: unknown, path: (string | number)[], problems: string[]): unknown {
  if (Array.isArray(node)) return node.map((v, i) => resolveFileSecrets(v, [...path, i], problems));
  if (!isPlainObject(node)) return node;
  const out: Tree = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.endsWith("_FILE") && typeof value === "string") {
      const target = key.slice(0, -5);
      try {
        out[target] = readFileSync(value, "utf8").trim();
      } catch (err) {
        problems.push(`${[...path, key].join(".")}: cannot read ${value} (${(err as NodeJS.ErrnoException).code})`);
      }
      continue;
    }
    out[key] = resolveFileSecrets(value, [...path, key], problems);
  }
  return out;
}

function isPlainObject(v: unknown): v is Tree {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars from `b` replace those in `a`. */
export function deepMerge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.join(".") : "(top level)";
  return `${path}: ${issue.message}`;
}
