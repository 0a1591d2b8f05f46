/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, and self time
 * grouped by where the code lives (Draftgate's own files, each npm package, Node internals, GC …).
 *
 *   node --import tsx bench/cpuprofile.ts FILE.cpuprofile [TOP]
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: "draftgate src/…", "pkg mailparser", "node:internal", "(garbage collector)" … */
function origin(url: string, repoRoot: string): string {
  if (!url) return "(native / VM)";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = path.slice(nm + "/node_modules/".length).split("/");
    return `pkg ${rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (path.startsWith("node:")) return "node internals";
  if (path.startsWith(repoRoot)) return `draftgate ${path.slice(repoRoot.length + 1).replace(/^dist\//, "").split("/").slice(0, 2).join("/")}`;
  return path;
}

function shortUrl(url: string, repoRoot: string): string {
  if (!url) return "";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) return path.slice(nm + "/node_modules/".length);
  if (path.startsWith(repoRoot)) return path.slice(repoRoot.length + 1);
  return path;
}

export function summarizeCpuProfile(json: string, top = 15, repoRoot = process.cwd()): string {
  const profile = JSON.parse(json) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = profile.endTime - profile.startTime;

  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byOrigin = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const name = f.functionName || (f.url ? "(anonymous)" : "");
    const where = f.url ? `${shortUrl(f.url, repoRoot)}:${f.lineNumber + 1}` : "";
    const key = `${name}\0${where}`;
    const entry = byFunction.get(key) ?? { name: name || "(program)", where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const o = f.url ? origin(f.url, repoRoot) : name.startsWith("(") ? name : "(native / VM)";
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
  }

  // Inclusive ("total") time of Draftgate's own functions: every sample counts once for each distinct
  // src/ function on its stack. After an await, V8 resumes an async function at the bottom of a fresh
  // stack, so this is the time spent in the function's synchronous stretches and what they call.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownKey = (f: CallFrame): string | null => {
    if (!f.url) return null;
    const path = f.url.startsWith("file://") ? fileURLToPath(f.url) : f.url;
    if (!path.startsWith(repoRoot) || path.includes("/node_modules/")) return null;
    return `${f.functionName || "(anonymous)"}  (${path.slice(repoRoot.length + 1)}:${f.lineNumber + 1})`;
  };
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const k = ownKey(byId.get(n)!.callFrame);
      if (k && !seen.has(k)) {
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + us);
      }
    }
  }

  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines: string[] = [`profile: ${(total / 1e6).toFixed(2)} s, ${profile.samples.length} samples`];
  lines.push("  self time  share  function  (file:line)");
  [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .forEach((e, i) => lines.push(`${String(i + 1).padStart(2)}. ${ms(e.us)} ${pct(e.us)}  ${e.name}${e.where ? `  (${e.where})` : ""}`));
  lines.push("", "  self time by origin:");
  [...byOrigin.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .forEach(([o, us]) => lines.push(`    ${ms(us)} ${pct(us)}  ${o}`));
  lines.push("", "  Draftgate functions by inclusive time (synchronous stretches):");
  [...inclusive.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, us]) => lines.push(`    ${ms(us)} ${pct(us)}  ${k}`));
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node --import tsx bench/cpuprofile.ts FILE.cpuprofile [TOP]\n");
    process.exit(1);
  }
  process.stdout.write(summarizeCpuProfile(readFileSync(file, "utf8"), top ? Number(top) : 15, resolve(fileURLToPath(import.meta.url), "../..")) + "\n");
}
