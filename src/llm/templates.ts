import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { packageRoot } from "../config/paths.js";

/** Operator-editable templates under templates/, compiled once per process. */
const compiled = new Map<string, HandlebarsTemplateDelegate>();
const templatesDir = join(packageRoot, "templates");

/**
 * Renders templates/<name>. Only .html templates HTML-escape their values: prompts and reply bodies are
 * plain text, where "O'Brien & Co" must stay as written (escaped it reads `O&#x27;Brien &amp; Co`).
 */
export function render(name: string, data: Record<string, unknown>): string {
  let t = compiled.get(name);
  if (!t) {
    t = Handlebars.compile(readFileSync(join(templatesDir, name), "utf8"), { noEscape: !name.endsWith(".html"), strict: false });
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
