import { join } from "node:path";
import { csrfSync } from "csrf-sync";
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import session from "express-session";
import helmet from "helmet";
import { packageRoot } from "../config/paths.js";
import { readiness } from "../obs/health.js";
import { userOfToken } from "../store/apiTokens.js";
import { appSecret } from "../store/sessions.js";
import { adminRoutes } from "./admin.js";
import { apiRoutes } from "./api.js";
import { liveRoutes } from "./live.js";
import { oidcRoutes } from "./oidc.js";
import { operationsRoutes } from "./operations.js";
import { accountRoutes, authRoutes, requireUser } from "./auth.js";
import type { WebDeps, WebUser } from "./context.js";
import { pageRoutes } from "./pages.js";
import { DbSessionStore } from "./sessionStore.js";
import { renderPage } from "./views.js";

export type { WebDeps } from "./context.js";

/**
 * The HTTP surface: health, readiness and metrics; the review page (queue, conversation, actions) behind
 * a log-in with database sessions, CSRF tokens on every state-changing request and a strict
 * Content-Security-Policy (no inline script or style anywhere).
 */
export function createApp(deps: WebDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", deps.config.http.trustProxy);

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

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          "default-src": ["'self'"],
          "script-src": ["'self'"],
          "style-src": ["'self'"],
          "img-src": ["'self'", "data:"],
          "frame-src": ["'self'"],
          "connect-src": ["'self'"],
          "form-action": ["'self'"],
          "frame-ancestors": ["'self'"],
          "object-src": ["'none'"],
          "base-uri": ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: false,
      referrerPolicy: { policy: "same-origin" },
    }),
  );
  app.use("/static", express.static(join(packageRoot, "templates", "web", "static"), { index: false, maxAge: "1h" }));
  app.use("/static", express.static(join(packageRoot, "dist", "public"), { index: false, maxAge: "1h" }));

  const hours = deps.config.http.sessionHours;
  // Made at the first request that needs it: the cookie's signing secret lives in the database, which
  // may not be migrated yet when the process starts (health and readiness answer without it).
  let sessions: RequestHandler | null = null;
  app.use((req, res, next) => {
    if (sessions) return sessions(req, res, next);
    appSecret(deps.store, "session").then((secret) => {
      sessions ??= session({
        name: "draftgate.sid",
        secret,
        store: new DbSessionStore(deps.store),
        resave: false,
        saveUninitialized: false,
        rolling: true,
        // Secure whenever the request came over TLS (directly or, with http.trustProxy, through the proxy).
        cookie: { httpOnly: true, sameSite: "lax", secure: "auto", maxAge: hours * 3600_000 },
      });
      sessions(req, res, next);
    }, next);
  });
  app.use(express.urlencoded({ extended: false, limit: "2mb" }));
  app.use(express.json({ limit: "2mb" }));

  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req: Request) => {
      const header = req.headers["x-csrf-token"];
      if (typeof header === "string") return header;
      const body = (req.body as Record<string, unknown> | undefined)?._csrf;
      return typeof body === "string" ? body : undefined;
    },
  });
  app.use((req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD") {
      // A token for the forms of this page (created once per session).
      res.locals.csrf = generateToken(req, false);
      const flash = req.session.flash;
      if (flash) {
        res.locals.flash = flash;
        delete req.session.flash;
      }
    }
    next();
  });
  // Scripts on /api may send `Authorization: Bearer dg_…` (draftgate token add) instead of a session:
  // no cookie, so no CSRF token either. A read token may only GET.
  app.use("/api", (req, res, next) => {
    const auth = req.headers.authorization;
    if (!auth) return next();
    const m = /^Bearer (\S+)$/u.exec(auth);
    (m ? userOfToken(deps.store, m[1]!) : Promise.resolve(null)).then((found) => {
      if (!found) return void res.status(401).json({ error: "unknown or revoked API token" });
      if (found.scope === "read" && req.method !== "GET")
        return void res.status(403).json({ error: "this token may only read (scope read)" });
      (req as Request & { user?: WebUser; bearer?: boolean }).user = found.user;
      (req as Request & { bearer?: boolean }).bearer = true;
      next();
    }, next);
  });
  app.use((req, res, next) => ((req as Request & { bearer?: boolean }).bearer ? next() : csrfSynchronisedProtection(req, res, next)));

  const open = express.Router();
  authRoutes(deps, open);
  oidcRoutes(deps, open);
  app.use(open);

  const guarded = express.Router();
  guarded.use(requireUser(deps));
  pageRoutes(deps, guarded);
  accountRoutes(deps, guarded);
  adminRoutes(deps, guarded);
  operationsRoutes(deps, guarded);
  apiRoutes(deps, guarded);
  liveRoutes(deps, guarded);
  app.use(guarded);

  app.use((req: Request, res: Response) => {
    if (req.path.startsWith("/api/")) {
      res.status(404).json({ error: `no such API route: ${req.method} ${req.path}` });
      return;
    }
    res
      .status(404)
      .type("html")
      .send(renderPage("error", { ...res.locals, title: "Not found", heading: "Not found", message: `Nothing at ${req.path}.` }));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { code?: string; status?: number; statusCode?: number; type?: string };
    const csrf = e.code === "EBADCSRFTOKEN" || (e.statusCode === 403 && /csrf/iu.test(String((err as Error).message)));
    if (req.path.startsWith("/api/")) {
      const status = csrf ? 403 : (e.status ?? e.statusCode ?? 500);
      if (status >= 500) deps.log.error({ err, path: req.path }, "request failed");
      res.status(status).json({
        error: csrf
          ? "missing or wrong X-CSRF-Token (GET /api/me gives it)"
          : status >= 500
            ? "internal error (logged)"
            : String((err as Error).message),
      });
      return;
    }
    if (csrf) {
      res
        .status(403)
        .type("html")
        .send(
          renderPage("error", {
            ...res.locals,
            title: "Expired form",
            heading: "This form expired",
            message: "Reload the page and try again.",
          }),
        );
      return;
    }
    const status = e.status ?? e.statusCode ?? 500;
    if (status >= 500) deps.log.error({ err, path: req.path }, "request failed");
    res
      .status(status)
      .type("html")
      .send(
        renderPage("error", {
          ...res.locals,
          title: "Something went wrong",
          heading: status >= 500 ? "Something went wrong" : "Bad request",
          message:
            status >= 500
              ? "The server could not do that. It is logged; try again in a moment."
              : String((err as Error).message ?? "bad request"),
        }),
      );
  });
  return app;
}
