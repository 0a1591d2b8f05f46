import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { packageRoot } from "../config/paths.js";

/** Operator-editable templates under templates/, compiled once per process. */
const compiled = new Map<string, HandlebarsTemplateDelegate>();
const templatesDir = join(packageRoot, "templates");

export function render(name: string, data: Record<string, unknown>): string {
  let t = compiled.get(name);
  if (!t) {
    t = Handlebars.compile(readFileSync(join(templatesDir, name), "utf8"), { noEscape: false, strict: false });
    compiled.set(name, t);
  }
  return t(data).trim();
}

/** Knowledge snippets: every templates/knowledge/*.md but the README. */
export function knowledgeSnippets(): { name: string; text: string }[] {
  const dir = join(templatesDir, "knowledge");
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".md") && f.toLowerCase() !== "readme.md")
      .sort()
      .map((f) => ({ name: f, text: readFileSync(join(dir, f), "utf8").trim() }));
  } catch {
    return [];
  }
}
