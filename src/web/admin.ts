import type { Router } from "express";
import { DraftgateError } from "../core/errors.js";
import { resolveOutbox } from "../review/resolveOutbox.js";
import { appendAudit } from "../store/audit.js";
import type { AuditRow } from "../store/entities/review.js";
import { listOutbox } from "../store/outbox.js";
import { select } from "../store/sql.js";
import { requireAdmin } from "./auth.js";
import { clientIp, field, userOf, type WebDeps } from "./context.js";
import { renderPage } from "./views.js";

/** Admin pages: the outbox (with resolve for uncertain replies) and the audit log (behind requireUser). */
export function adminRoutes(deps: WebDeps, router: Router): void {
  router.get("/admin/outbox", requireAdmin, async (req, res, next) => {
    try {
      const all = await listOutbox(deps.store);
      const attention = all.filter((e) => e.state === "uncertain" || e.state === "failed" || e.state === "retrying");
      res
        .type("html")
        .send(renderPage("outbox", { ...res.locals, title: "Outbox", page: "outbox", attention, recent: all.slice(-100).reverse() }));
    } catch (err) {
      next(err);
    }
  });

  router.post("/admin/outbox/:id/resolve", requireAdmin, async (req, res, next) => {
    try {
      const resolution = field(req, "resolution") === "resend" ? "resend" : field(req, "resolution") === "sent" ? "sent" : null;
      const id = Number(req.params.id);
      if (!resolution || !Number.isInteger(id)) {
        res.status(400).type("text").send("resolution must be sent or resend");
        return;
      }
      try {
        await resolveOutbox(
          { store: deps.store, config: deps.config, now: deps.now },
          { outboxId: id, actor: userOf(req).email, resolution },
        );
        req.session.flash = {
          kind: "ok",
          text: resolution === "sent" ? `Reply ${id} marked sent.` : `Reply ${id} queued to be sent again.`,
        };
      } catch (err) {
        if (!(err instanceof DraftgateError)) throw err;
        req.session.flash = { kind: "error", text: err.message };
      }
      res.redirect(303, "/admin/outbox");
    } catch (err) {
      next(err);
    }
  });

  router.get("/admin/audit", requireAdmin, async (req, res, next) => {
    try {
      const user = userOf(req);
      // Reading the audit log is itself on the record.
      await deps.store.tx((em) =>
        appendAudit(em, { actor: user.email, action: "audit.read", subjectType: "audit", subjectId: null, detail: { ip: clientIp(req) } }),
      );
      const rows = await deps.store.read((em) =>
        select<Pick<AuditRow, "id" | "actor" | "action" | "subjectType" | "subjectId"> & { createdAt: unknown; detail: unknown }>(
          em,
          "SELECT `id`, `actor`, `action`, `subjectType`, `subjectId`, `detail`, `createdAt` FROM `audit_log` ORDER BY `id` DESC LIMIT 300",
          [],
        ),
      );
      const entries = rows.map((r) => ({
        ...r,
        detail: typeof r.detail === "string" ? r.detail : JSON.stringify(r.detail),
        createdAt: r.createdAt,
      }));
      res.type("html").send(renderPage("audit", { ...res.locals, title: "Audit log", page: "audit", entries }));
    } catch (err) {
      next(err);
    }
  });
}
