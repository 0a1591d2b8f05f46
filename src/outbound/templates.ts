import { readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { packageRoot } from "../config/paths.js";

/** templates/replies/*.hbs, compiled once per process. */
const compiled = new Map<string, HandlebarsTemplateDelegate>();
const dir = join(packageRoot, "templates", "replies");

/**
 * Renders templates/replies/<name>. Only `.html.hbs` templates HTML-escape their values: the text part
 * is plain text, where "O'Brien & Co" must stay as written. Unlike prompts, the output is not trimmed:
 * the approved body must reach the wire byte for byte, trailing spaces included.
 */
export function renderReply(name: "reply.txt.hbs" | "reply.html.hbs", data: Record<string, unknown>): string {
  let t = compiled.get(name);
  if (!t) {
    t = Handlebars.compile(readFileSync(join(dir, name), "utf8"), { noEscape: !name.endsWith(".html.hbs"), strict: false });
    compiled.set(name, t);
  }
  return t(data);
}
