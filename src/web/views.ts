import { readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { ago, draftLabel, priorityLabel, slaText, STATUS_LABEL } from "../core/review/format.js";
import { packageRoot } from "../config/paths.js";

/**
 * Server-rendered pages from templates/web/*.hbs: every value is HTML-escaped (Handlebars' default;
 * no template uses the triple-stash except the layout's body, which is itself a rendered template).
 */
const dir = join(packageRoot, "templates", "web");
const hb = Handlebars.create();
const compiled = new Map<string, HandlebarsTemplateDelegate>();

hb.registerHelper("eq", (a: unknown, b: unknown) => a === b);
hb.registerHelper("ago", (d: Date, now: Date) => (d ? ago(new Date(d), now) : ""));
hb.registerHelper("iso", (d: Date | null) => (d ? new Date(d).toISOString() : ""));
hb.registerHelper("date", (d: Date | null) => (d ? new Date(d).toISOString().replace("T", " ").slice(0, 16) + " UTC" : ""));
hb.registerHelper("sla", (d: Date | null, now: Date) => slaText(d ? new Date(d) : null, now).text);
hb.registerHelper("overdue", (d: Date | null, now: Date) => slaText(d ? new Date(d) : null, now).overdue);
hb.registerHelper("prioLabel", (p: unknown) => priorityLabel(typeof p === "string" ? p : null));
hb.registerHelper("draftLabel", (s: string | null) => draftLabel(s));
hb.registerHelper("statusLabel", (s: string) => STATUS_LABEL[s] ?? s);
hb.registerHelper("kb", (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`,
);
hb.registerHelper("json", (v: unknown) => JSON.stringify(v));

function template(name: string): HandlebarsTemplateDelegate {
  let t = compiled.get(name);
  if (!t) {
    t = hb.compile(readFileSync(join(dir, `${name}.hbs`), "utf8"), { strict: false });
    compiled.set(name, t);
  }
  return t;
}

/** Renders `name` inside the layout. `data.title` names the page. */
export function renderPage(name: string, data: Record<string, unknown>): string {
  const body = template(name)(data);
  return template("layout")({ ...data, body });
}
