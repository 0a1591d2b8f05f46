import type { Server } from "node:http";
import express, { type Express } from "express";
import type { Logger } from "../obs/logger.js";
import type { Metrics } from "../obs/metrics.js";
import { readiness } from "../obs/health.js";
import type { Store } from "../store/store.js";
import type { MailboxHealth } from "../obs/mailboxHealth.js";

export interface WebDeps {
  store: Store;
  metrics: Metrics;
  log: Logger;
  /** IMAP pollers of this process, shown in the readiness detail. */
  imapHealth?: () => MailboxHealth[];
}

/** The HTTP surface: health, readiness and metrics now; the review page and API mount here too. */
export function createApp(deps: WebDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const result = await readiness(deps.store);
    // Mailbox problems are reported, not fatal: a wrong password is not cured by restarting the process.
    res.status(result.ready ? 200 : 503).json(deps.imapHealth ? { ...result, mailboxes: deps.imapHealth() } : result);
  });

  app.get("/metrics", async (_req, res) => {
    try {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    } catch (err) {
      deps.log.error({ err }, "metrics collection failed");
      res.status(500).type("text/plain").send("metrics collection failed\n");
    }
  });

  app.get("/", (_req, res) => {
    res
      .type("html")
      .send(
        `<!doctype html><meta charset="utf-8"><title>Draftgate</title><h1>Draftgate</h1>` +
          `<p>The gateway is running. Health: <a href="/healthz">/healthz</a>, readiness: <a href="/readyz">/readyz</a>, metrics: <a href="/metrics">/metrics</a>.</p>`,
      );
  });
  return app;
}

export function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.once("error", reject);
  });
}
