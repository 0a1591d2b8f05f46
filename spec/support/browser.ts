import { existsSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/**
 * Real-Chromium tests: Debian's `chromium` package (.ci/run installs it), driven by playwright-core.
 *
 * Usage:
 *   before(async function () { requireBrowser(this); browser = await launchBrowser(); });
 *   const w = await watchedPage(browser);          // records script runs and requests that leave 127.0.0.1
 *   await w.page.goto(url); await w.settle();
 *   assert.deepEqual(w.events.scripts, []);
 *
 * Payloads under test report that they ran by calling `__xss(tag)` (a binding in every frame and popup)
 * or alert/confirm/prompt (recorded, then dismissed). Nothing may reach past 127.0.0.1: every other
 * request is recorded and aborted. A canary (`startCanary`) is a second loopback server that records what
 * reaches it, for loads that must not happen (or must, when a test proves it can see them).
 */

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether the Chromium binary is there; `reason` says what to do when it is not. */
export function browserAvailable(): { ok: boolean; reason: string } {
  if (existsSync(chromiumPath)) return { ok: true, reason: "" };
  return { ok: false, reason: `Chromium not found at ${chromiumPath}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH` };
}

/** For a mocha `before` hook: without Chromium, fail in CI (CI=true) and skip, saying why, elsewhere. */
export function requireBrowser(ctx: Mocha.Context): void {
  const { ok, reason } = browserAvailable();
  if (ok) return;
  if (process.env.CI === "true" || process.env.CI === "1") throw new Error(reason);
  console.warn(`      browser specs skipped: ${reason}`);
  ctx.skip();
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu"] });
}

export interface PageEvents {
  /** `__xss` calls and dialogs (alert/confirm/prompt/beforeunload), as "xss:<args>" / "dialog:<type>:<message>". */
  scripts: string[];
  /** Console lines where Chromium blocked script or a load (sandbox, CSP): proof that a layer had to act. */
  blocked: string[];
  /** URLs of requests to any host but 127.0.0.1 (each aborted). */
  offHost: string[];
  /** Every http(s) request URL, in order. */
  requests: string[];
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  events: PageEvents;
  /** Empties the event lists (between two loads on the same page). */
  reset(): void;
  /** Lets late events (image errors, timers, meta refresh) arrive after a load. */
  settle(ms?: number): Promise<void>;
  close(): Promise<void>;
}

const BLOCKED_CONSOLE = /Blocked script execution|Refused to|Ignored call to|sandboxed|Content Security Policy/i;

/** A fresh context and page that record script execution and requests (popups included). */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ acceptDownloads: true });
  const events: PageEvents = { scripts: [], blocked: [], offHost: [], requests: [] };
  await context.exposeBinding("__xss", (_source, ...args: unknown[]) => {
    events.scripts.push(`xss:${args.map((a) => String(a)).join(",")}`);
  });
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    events.requests.push(url);
    const { protocol, hostname } = new URL(url);
    if ((protocol === "http:" || protocol === "https:" || protocol === "ws:" || protocol === "wss:") && hostname !== "127.0.0.1") {
      events.offHost.push(url);
      await route.abort("blockedbyclient");
    } else {
      await route.continue();
    }
  });
  const watch = (page: Page): void => {
    page.on("dialog", (dialog) => {
      events.scripts.push(`dialog:${dialog.type()}:${dialog.message()}`);
      dialog.dismiss().catch(() => undefined);
    });
    page.on("console", (msg) => {
      if (BLOCKED_CONSOLE.test(msg.text())) events.blocked.push(`${msg.text()} @ ${msg.location().url}`);
    });
  };
  context.on("page", watch);
  const page = await context.newPage();
  return {
    context,
    page,
    events,
    reset() {
      for (const list of Object.values(events) as string[][]) list.length = 0;
    },
    settle: (ms = 150) => page.waitForTimeout(ms),
    close: () => context.close(),
  };
}

/** Something listening on 127.0.0.1 at a port the OS picked. */
export interface LocalServer {
  server: Server;
  port: number;
  /** "http://127.0.0.1:<port>" */
  origin: string;
  close(): Promise<void>;
}

/** Serves `handler` (an express app or a plain listener) on 127.0.0.1, port 0. */
export async function listenLocal(handler: RequestListener): Promise<LocalServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CanaryHit {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface Canary extends LocalServer {
  /** Requests that reached the canary, in order. */
  hits: CanaryHit[];
  /** Absolute URL of `path` on the canary. */
  url(path: string): string;
}

const GIF_1X1 = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

/**
 * A second loopback server that records every request and answers each with a 1×1 GIF (`*.css`
 * with an empty stylesheet, `*.html` with an empty page), so that whatever loads it succeeds.
 */
export async function startCanary(): Promise<Canary> {
  const hits: CanaryHit[] = [];
  const local = await listenLocal((req, res) => {
    const path = req.url ?? "/";
    hits.push({ method: req.method ?? "GET", path, headers: req.headers });
    const [type, body] = path.endsWith(".css")
      ? ["text/css", Buffer.from("")]
      : path.endsWith(".html")
        ? ["text/html; charset=utf-8", Buffer.from("<!doctype html><title>canary</title>")]
        : ["image/gif", GIF_1X1];
    res.writeHead(200, { "Content-Type": type, "Content-Length": body.length, "Cache-Control": "no-store" });
    res.end(body);
  });
  return { ...local, hits, url: (path) => `${local.origin}${path.startsWith("/") ? path : `/${path}`}` };
}
