import type { Router } from "express";
import { intakeOptions } from "../pipeline/intakeOptions.js";
import { Intake } from "../pipeline/intake.js";
import { listApiTokens, revokeApiToken } from "../store/apiTokens.js";
import { appendAudit } from "../store/audit.js";
import { retryDeadJob } from "../store/jobs.js";
import { readMailboxLease } from "../store/mailboxLeases.js";
import { listQuarantine, readQuarantined } from "../store/quarantine.js";
import { fromDbDate, select } from "../store/sql.js";
import { listTeams } from "../store/teams.js";
import { requireAdmin } from "./auth.js";
import { userOf, type WebDeps } from "./context.js";
import { attachmentHeaders } from "./render/emailFrame.js";
import { renderPage } from "./views.js";

/**
 * The operations page (/admin/ops, admins): quarantine (download the raw message safely, retry),
 * dead-lettered jobs (retry), mailbox health from the lease rows (whichever process holds them), users,
 * teams and API tokens (revoke).
 */
export function operationsRoutes(deps: WebDeps, router: Router): void {
  router.get("/admin/ops", requireAdmin, async (_req, res, next) => {
    try {
      const quarantine = await listQuarantine(deps.store);
      const dead = await deps.store.read((em) =>
        select<{ id: number; type: string; attempts: number; lastError: string | null; updatedAt: unknown }>(
          em,
          "SELECT `id`, `type`, `attempts`, `lastError`, `updatedAt` FROM `jobs` WHERE `state` = 'dead' ORDER BY `id` DESC LIMIT 100",
          [],
        ),
      );
      const mailboxes = await deps.store.read((em) =>
        select<{ id: number; name: string; address: string | null }>(
          em,
          "SELECT `id`, `name`, `address` FROM `mailboxes` ORDER BY `name`",
          [],
        ),
      );
      const health = await Promise.all(mailboxes.map(async (m) => ({ ...m, lease: await readMailboxLease(deps.store, Number(m.id)) })));
      const users = await deps.store.read((em) =>
        select<{ email: string; role: string; lockedUntil: unknown; passwordHash: string | null }>(
          em,
          "SELECT `email`, `role`, `lockedUntil`, `passwordHash` FROM `users` ORDER BY `email`",
          [],
        ),
      );
      res.type("html").send(
        renderPage("operations", {
          ...res.locals,
          title: "Operations",
          page: "ops",
          now: new Date(),
          quarantine,
          dead: dead.map((d) => ({ ...d, updatedAt: fromDbDate(d.updatedAt) })),
          health: health.map((h) => ({
            ...h,
            status: h.lease?.status ? JSON.stringify(h.lease.status) : "",
            live: !!h.lease && h.lease.leaseUntil > new Date(),
          })),
          users: users.map((u) => ({
            email: u.email,
            role: u.role,
            locked: u.lockedUntil !== null && fromDbDate(u.lockedUntil) > new Date(),
            sso: u.passwordHash === null,
          })),
          teams: await listTeams(deps.store),
          tokens: await listApiTokens(deps.store),
        }),
      );
    } catch (err) {
      next(err);
    }
  });

  // The quarantined bytes as a download: never rendered (attachment, octet-stream, sandbox CSP).
  router.get("/admin/quarantine/:id/raw", requireAdmin, async (req, res, next) => {
    try {
      const found = await readQuarantined(deps.store, Number(req.params.id));
      if (!found) return void res.status(404).type("text").send("no such quarantined message");
      await deps.store.tx((em) =>
        appendAudit(em, {
          actor: userOf(req).email,
          action: "quarantine.download",
          subjectType: "quarantine",
          subjectId: String(found.row.id),
          detail: {},
        }),
      );
      res
        .set(
          attachmentHeaders({
            filename: `quarantine-${found.row.id}.eml`,
            contentType: "application/octet-stream",
            size: found.raw.length,
          }),
        )
        .send(found.raw);
    } catch (err) {
      next(err);
    }
  });

  router.post("/admin/quarantine/:id/retry", requireAdmin, async (req, res, next) => {
    try {
      const id = Number(req.params.id);
      const intake = new Intake(deps.store, intakeOptions(deps.config));
      try {
        const o = await intake.retryQuarantined(id, {
          refetch: () =>
            Promise.reject(
              new Error("only part of this message was kept: retry it with `draftgate quarantine retry`, which fetches it again from IMAP"),
            ),
        });
        req.session.flash = {
          kind: o.kind === "quarantined" ? "error" : "ok",
          text: `Quarantined message ${id}: ${o.kind}${o.kind === "quarantined" ? ` (${o.reason})` : ""}.`,
        };
      } catch (err) {
        req.session.flash = { kind: "error", text: `Quarantined message ${id}: ${(err as Error).message}` };
      }
      await deps.store.tx((em) =>
        appendAudit(em, {
          actor: userOf(req).email,
          action: "quarantine.retry",
          subjectType: "quarantine",
          subjectId: String(id),
          detail: {},
        }),
      );
      res.redirect(303, "/admin/ops");
    } catch (err) {
      next(err);
    }
  });

  router.post("/admin/jobs/:id/retry", requireAdmin, async (req, res, next) => {
    try {
      const id = Number(req.params.id);
      const ok = await retryDeadJob(deps.store, id);
      await deps.store.tx((em) =>
        appendAudit(em, { actor: userOf(req).email, action: "job.retry", subjectType: "job", subjectId: String(id), detail: { ok } }),
      );
      req.session.flash = ok ? { kind: "ok", text: `Job ${id} queued again.` } : { kind: "error", text: `Job ${id} is not dead-lettered.` };
      res.redirect(303, "/admin/ops");
    } catch (err) {
      next(err);
    }
  });

  router.post("/admin/tokens/:id/revoke", requireAdmin, async (req, res, next) => {
    try {
      const ok = await revokeApiToken(deps.store, Number(req.params.id), userOf(req).email);
      req.session.flash = ok ? { kind: "ok", text: "Token revoked." } : { kind: "error", text: "No live token with that id." };
      res.redirect(303, "/admin/ops");
    } catch (err) {
      next(err);
    }
  });
}
