import type { Request, Response, Router } from "express";
import { ApprovalError, approveDraft, regenerateDraft, rejectDraft, writeReply, type ApprovalRefusal } from "../review/approveDraft.js";
import { slaDueAt } from "../core/llm/sla.js";
import { PRIORITIES } from "../core/review/format.js";
import type { ConversationStatus, Priority } from "../store/entities/mail.js";
import type { DraftRow } from "../store/entities/review.js";
import { editorsOf } from "../store/events.js";
import {
  addNote,
  assignConversation,
  mailboxOfConversation,
  setPriorityByReviewer,
  auditView,
  conversationView,
  setConversationStatus,
} from "../store/conversationView.js";
import { queueCounts, queuePage } from "../store/reviewQueue.js";
import { visibleMailboxIds } from "../store/teams.js";
import { clientIp, field, optionalField, userOf, type WebDeps } from "./context.js";
import { queueFilter } from "./pages.js";

/**
 * The JSON API under /api: everything the page does, for scripts (described in src/web/openapi.yaml).
 * Same log-in, team checks and approval path as the page; a conversation of another team is 404.
 */

const STATUS_OF: Partial<Record<ApprovalRefusal, number>> = {
  "not-found": 404,
  "unknown-user": 403,
  "wrong-conversation": 404,
  "wrong-mailbox": 404,
  "empty-body": 400,
  "body-too-long": 400,
  "no-reason": 400,
};

const intParam = (v: unknown): number | null => (typeof v === "string" && /^\d{1,12}$/u.test(v) ? Number(v) : null);

function fail(res: Response, status: number, error: string, code?: string): void {
  res.status(status).json({ error, ...(code ? { code } : {}) });
}

export function apiRoutes(deps: WebDeps, router: Router): void {
  const now = () => (deps.now ?? (() => new Date()))();
  const review = { store: deps.store, config: deps.config, now: deps.now };

  /** Runs a handler; an ApprovalError becomes 404/400/409 with its message, anything else 500. */
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response, next: (err: unknown) => void): Promise<void> => {
      try {
        await fn(req, res);
      } catch (err) {
        if (err instanceof ApprovalError) return fail(res, STATUS_OF[err.refusal] ?? 409, err.message, err.refusal);
        next(err);
      }
    };

  /** The conversation (its view) when the user may see it; null after answering 404. */
  const visibleConversation = async (req: Request, res: Response, id: number | null) => {
    const view = id === null ? null : await conversationView(deps.store, id, await visibleMailboxIds(deps.store, userOf(req)));
    if (!view) fail(res, 404, "no such conversation (or not one of your team's)");
    return view;
  };

  /** The draft, its conversation and mailbox name, when the user may see it (a cheap check: no thread read). */
  const visibleDraft = async (req: Request, res: Response) => {
    const draftId = intParam(req.params.id);
    const draft = draftId === null ? null : await deps.store.read((em) => em.getRepository<DraftRow>("Draft").findOneBy({ id: draftId }));
    const mailboxId = draft ? await deps.store.read((em) => mailboxOfConversation(em, draft.conversationId)) : null;
    const visible = await visibleMailboxIds(deps.store, userOf(req));
    if (!draft || mailboxId === null || (visible && !visible.includes(mailboxId))) {
      fail(res, 404, "no such draft (or not one of your team's)");
      return null;
    }
    const mailbox = await deps.store.read((em) =>
      em.getRepository<{ id: number; name: string }>("Mailbox").findOneByOrFail({ id: mailboxId }),
    );
    return { draft, view: { conversation: { id: draft.conversationId }, mailbox: mailbox.name } };
  };

  router.get(
    "/api/me",
    handle(async (req, res) => {
      const u = userOf(req);
      // csrfToken: send it back as X-CSRF-Token on every POST made with this session's cookie.
      res.json({ id: u.id, email: u.email, role: u.role, csrfToken: res.locals.csrf as string });
    }),
  );

  router.get(
    "/api/queue",
    handle(async (req, res) => {
      const user = userOf(req);
      const filter = queueFilter(req.query, await visibleMailboxIds(deps.store, user), user.id);
      const offset = Math.max(0, intParam(req.query.offset) ?? 0);
      const limit = Math.min(200, Math.max(1, intParam(req.query.limit) ?? 50));
      const [page, counts] = await Promise.all([
        queuePage(deps.store, filter, { offset, limit }, now()),
        queueCounts(deps.store, filter, now()),
      ]);
      res.json({ rows: page.rows, more: page.more, counts });
    }),
  );

  router.get(
    "/api/conversations/:id",
    handle(async (req, res) => {
      const view = await visibleConversation(req, res, intParam(req.params.id));
      if (!view) return;
      await auditView(deps.store, view.conversation.id, userOf(req).email, clientIp(req));
      res.json({
        conversation: view.conversation,
        mailbox: view.mailbox,
        assignee: view.assignee,
        messages: view.messages,
        triage: view.triage,
        drafts: view.drafts.map(({ embedding: _e, ...d }) => d),
        outbox: view.outbox,
        notes: view.notes,
      });
    }),
  );

  router.post(
    "/api/drafts/:id/approve",
    handle(async (req, res) => {
      const found = await visibleDraft(req, res);
      if (!found) return;
      const editors = await deps.store.read((em) => editorsOf(em, found.view.conversation.id, userOf(req).email, now()));
      if (editors.length > 0 && (req.body as { takeover?: unknown } | undefined)?.takeover !== true)
        return fail(res, 409, `${editors.join(", ")} is editing this draft; send "takeover": true to approve anyway`, "being-edited");
      const r = await approveDraft(review, {
        draftId: found.draft.id,
        actor: userOf(req).email,
        body: optionalField(req, "body"),
        expected: { conversationId: found.view.conversation.id, mailbox: found.view.mailbox },
      });
      res.status(201).json(r);
    }),
  );

  router.post(
    "/api/drafts/:id/reject",
    handle(async (req, res) => {
      const found = await visibleDraft(req, res);
      if (!found) return;
      res.json(
        await rejectDraft(review, {
          draftId: found.draft.id,
          actor: userOf(req).email,
          reason: field(req, "reason"),
          expected: { conversationId: found.view.conversation.id, mailbox: found.view.mailbox },
        }),
      );
    }),
  );

  router.post(
    "/api/drafts/:id/regenerate",
    handle(async (req, res) => {
      const found = await visibleDraft(req, res);
      if (!found) return;
      res.status(202).json(
        await regenerateDraft(review, {
          draftId: found.draft.id,
          actor: userOf(req).email,
          instruction: field(req, "instruction"),
          expected: { conversationId: found.view.conversation.id, mailbox: found.view.mailbox },
        }),
      );
    }),
  );

  router.post(
    "/api/conversations/:id/reply",
    handle(async (req, res) => {
      const view = await visibleConversation(req, res, intParam(req.params.id));
      if (!view) return;
      const r = await writeReply(review, {
        conversationId: view.conversation.id,
        actor: userOf(req).email,
        body: field(req, "body"),
        expected: { mailbox: view.mailbox },
      });
      res.status(201).json(r);
    }),
  );

  router.post(
    "/api/conversations/:id/assign",
    handle(async (req, res) => {
      const view = await visibleConversation(req, res, intParam(req.params.id));
      if (!view) return;
      const user = userOf(req);
      const to = field(req, "to");
      if (to !== "me" && to !== "") return fail(res, 400, 'to must be "me" or "" (unassign)');
      await assignConversation(deps.store, view.conversation.id, to === "me" ? user.id : null, user.email);
      res.json({ id: view.conversation.id, assignee: to === "me" ? user.email : null });
    }),
  );

  router.post(
    "/api/conversations/:id/notes",
    handle(async (req, res) => {
      const view = await visibleConversation(req, res, intParam(req.params.id));
      if (!view) return;
      const body = field(req, "body").trim();
      if (!body) return fail(res, 400, "a note needs a body");
      res.status(201).json({ id: await addNote(deps.store, view.conversation.id, userOf(req).email, body) });
    }),
  );

  router.post(
    "/api/conversations/:id/priority",
    handle(async (req, res) => {
      const view = await visibleConversation(req, res, intParam(req.params.id));
      if (!view) return;
      const priority = field(req, "priority") as Priority;
      if (!(PRIORITIES as readonly string[]).includes(priority)) return fail(res, 400, "priority must be urgent, high, normal or low");
      const from = view.messages.filter((m) => m.direction === "inbound").at(-1)?.receivedAt ?? now();
      const due = slaDueAt(priority, from, deps.config.sla);
      await setPriorityByReviewer(deps.store, view.conversation.id, priority, due, userOf(req).email);
      res.json({ id: view.conversation.id, priority, slaDueAt: due.toISOString() });
    }),
  );

  router.post(
    "/api/conversations/:id/status",
    handle(async (req, res) => {
      const view = await visibleConversation(req, res, intParam(req.params.id));
      if (!view) return;
      const status = field(req, "status") as ConversationStatus;
      if (!["open", "pending", "closed"].includes(status)) return fail(res, 400, "status must be open, pending or closed");
      await setConversationStatus(deps.store, view.conversation.id, status, userOf(req).email);
      res.json({ id: view.conversation.id, status });
    }),
  );
}
