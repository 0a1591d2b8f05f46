import type { NextFunction, Request, RequestHandler, Response, Router } from "express";
import express from "express";
import { rateLimit } from "express-rate-limit";
import { hashPassword, verifyPassword } from "../review/passwords.js";
import { appendAudit } from "../store/audit.js";
import { deleteUserSessions, userSessions } from "../store/sessions.js";
import { findUserByEmail, findUserById, recordLoginFailure, recordLoginSuccess, setPasswordHash } from "../store/users.js";
import { clientIp, field, userOf, type WebDeps, type WebUser } from "./context.js";
import { renderPage } from "./views.js";

/** A same-site path to go back to after logging in (never another site: no scheme, no //). */
export function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])[\w\-./?=&%#:;,+~]*$/u.test(next) ? next : "/";
}

/**
 * Loads the session's user; a page request without one goes to the login page, an API request gets 401.
 * A user deleted since the session began counts as logged out.
 */
export function requireUser(deps: WebDeps): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const preset = (req as Request & { user?: WebUser }).user;
    if (preset) {
      // An API token's user (set before the session is looked at).
      res.locals.user = preset;
      return next();
    }
    const id = req.session.userId;
    const refuse = () => {
      if (req.path.startsWith("/api/") || req.baseUrl.startsWith("/api")) res.status(401).json({ error: "log in first" });
      else if (req.method === "GET") res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      else res.status(401).type("text").send("log in first");
    };
    if (!id) return refuse();
    deps.store
      .read((em) => findUserById(em, id))
      .then((u) => {
        if (!u) return refuse();
        (req as Request & { user?: WebUser }).user = { id: u.id, email: u.email, role: u.role };
        res.locals.user = { id: u.id, email: u.email, role: u.role };
        next();
      }, next);
  };
}

/** Only admins; others get 403. */
export const requireAdmin: RequestHandler = (req, res, next) => {
  if (userOf(req).role !== "admin") {
    res
      .status(403)
      .type("html")
      .send(renderPage("error", { ...res.locals, title: "Not allowed", heading: "Not allowed", message: "This page is for admins." }));
    return;
  }
  next();
};

const audit = (deps: WebDeps, actor: string, action: string, detail: Record<string, unknown>) =>
  deps.store.tx((em) => appendAudit(em, { actor, action, subjectType: "user", subjectId: actor, detail }));

/** Log in, log out (here or everywhere), change password. */
export function authRoutes(deps: WebDeps, router: Router): void {
  const cfg = deps.config.http;
  // Per address: 20 attempts in 5 minutes, on top of the per-account lockout.
  const limiter = rateLimit({
    windowMs: 5 * 60_000,
    limit: 20,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    message: "too many log-in attempts; wait a few minutes",
  });

  router.get("/login", (req, res) => {
    if (req.session.userId) return res.redirect(303, safeNext(req.query.next));
    res
      .type("html")
      .send(
        renderPage("login", {
          ...res.locals,
          title: "Log in",
          next: safeNext(req.query.next),
          sso: deps.config.oidc ? deps.config.oidc.label : null,
        }),
      );
  });

  router.post("/login", limiter, express.urlencoded({ extended: false, limit: "16kb" }), async (req, res, next) => {
    try {
      const email = field(req, "email").trim().toLowerCase();
      const password = field(req, "password");
      const ip = clientIp(req);
      const now = (deps.now ?? (() => new Date()))();
      const user = email ? await deps.store.read((em) => findUserByEmail(em, email)) : null;
      const fail = (status: number, message: string) =>
        res
          .status(status)
          .type("html")
          .send(renderPage("login", { ...res.locals, title: "Log in", error: message, email, next: safeNext(field(req, "next")) }));
      if (user?.lockedUntil && user.lockedUntil > now) {
        await audit(deps, email, "login.locked", { ip });
        return fail(429, "This account is locked after too many failed log-ins. Try again later.");
      }
      if (!user || !(await verifyPassword(password, user.passwordHash))) {
        if (user) {
          const locked = await recordLoginFailure(deps.store, user.id, cfg.loginMaxFailures, cfg.loginLockMinutes * 60_000, now);
          if (locked) await audit(deps, email, "user.locked", { ip, until: locked.toISOString() });
        }
        await audit(deps, email || "(empty)", "login.failed", { ip });
        return fail(401, "Wrong e-mail or password.");
      }
      await recordLoginSuccess(deps.store, user.id);
      // A new session id at log-in: an id planted before (session fixation) is worth nothing after.
      req.session.regenerate((err) => {
        if (err) return next(err);
        req.session.userId = user.id;
        req.session.ip = ip;
        req.session.userAgent = String(req.headers["user-agent"] ?? "").slice(0, 255);
        req.session.save((err2) => {
          if (err2) return next(err2);
          audit(deps, user.email, "login", { ip }).then(() => res.redirect(303, safeNext(field(req, "next"))), next);
        });
      });
    } catch (err) {
      next(err);
    }
  });

  router.post("/logout", (req, res, next) => {
    const preset = (req as Request & { user?: WebUser }).user;
    if (preset) {
      // An API token's user (set before the session is looked at).
      res.locals.user = preset;
      return next();
    }
    const id = req.session.userId;
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie("draftgate.sid");
      if (!id) return res.redirect(303, "/login");
      deps.store
        .read((em) => findUserById(em, id))
        .then((u) => (u ? audit(deps, u.email, "logout", { ip: clientIp(req) }) : undefined))
        .then(() => res.redirect(303, "/login"), next);
    });
  });
}

/** The account page: password change and log out everywhere (behind requireUser). */
export function accountRoutes(deps: WebDeps, router: Router): void {
  router.get("/account", async (req, res, next) => {
    try {
      const sessions = await userSessions(deps.store, userOf(req).id);
      res.type("html").send(renderPage("account", { ...res.locals, title: "Account", page: "account", sessions }));
    } catch (err) {
      next(err);
    }
  });

  router.post("/logout/everywhere", async (req, res, next) => {
    try {
      const u = userOf(req);
      await deleteUserSessions(deps.store, u.id);
      await audit(deps, u.email, "logout.everywhere", { ip: clientIp(req) });
      res.clearCookie("draftgate.sid");
      res.redirect(303, "/login");
    } catch (err) {
      next(err);
    }
  });

  router.post("/account/password", async (req, res, next) => {
    try {
      const u = userOf(req);
      const row = await deps.store.read((em) => findUserById(em, u.id));
      const password = field(req, "password");
      if (!row || !(await verifyPassword(field(req, "current"), row.passwordHash))) {
        req.session.flash = { kind: "error", text: "The current password is not right." };
        return res.redirect(303, "/account");
      }
      if (password.length < 12) {
        req.session.flash = { kind: "error", text: "Choose a password of 12 characters or more." };
        return res.redirect(303, "/account");
      }
      await setPasswordHash(deps.store, u.id, await hashPassword(password), u.email);
      // Every other session ends: whoever knew the old password is logged out.
      await deleteUserSessions(deps.store, u.id, req.sessionID);
      req.session.flash = { kind: "ok", text: "Password changed; your other sessions were logged out." };
      res.redirect(303, "/account");
    } catch (err) {
      next(err);
    }
  });
}
