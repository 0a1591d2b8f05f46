import type { Request, Response, Router } from "express";
import { slaDueAt } from "../core/llm/sla.js";
import { PRIORITIES } from "../core/review/format.js";
import { ApprovalError, approveDraft, regenerateDraft, rejectDraft, writeReply } from "../review/approveDraft.js";
import type { ConversationStatus, Priority } from "../store/entities/mail.js";
import {
  addNote,
  assignConversation,
  attachmentBytes,
  attachmentOf,
  inlineImagesOf,
  auditView,
  conversationView,
  messageHtml,
  setConversationStatus,
  setPriorityByReviewer,
} from "../store/conversationView.js";
import { readBlob } from "../store/blobs.js";
import { editorsOf } from "../store/events.js";
import { queueCounts, queuePage, type QueueFilter } from "../store/reviewQueue.js";
import { visibleMailboxIds } from "../store/teams.js";
import { attachmentHeaders, emailFrameDocument, emailFrameHeaders } from "./render/emailFrame.js";
import { clientIp, field, optionalField, userOf, type WebDeps } from "./context.js";
import { renderPage } from "./views.js";

const PAGE = 50;
const STATUSES: ConversationStatus[] = ["open", "pending", "closed"];

/** The queue filter from a query string (unknown values ignored). */
export function queueFilter(q: Record<string, unknown>, visible: number[] | null, userId: number): QueueFilter {
  const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim().slice(0, 200) : undefined);
  const status = str(q.status) as ConversationStatus | undefined;
  const priority = str(q.priority) as Priority | undefined;
  const assigned = str(q.assigned);
  return {
    visible,
    userId,
    status: status && STATUSES.includes(status) ? status : "open",
    mailbox: str(q.mailbox),
    priority: priority && (PRIORITIES as readonly string[]).includes(priority) ? priority : undefined,
    category: str(q.category),
    assigned: assigned === "me" || assigned === "none" ? assigned : undefined,
    overdue: q.overdue === "1" || undefined,
    hasDraft: q.draft === "1" || undefined,
    q: str(q.q),
  };
}

function notFound(res: Response): void {
  res
    .status(404)
    .type("html")
    .send(
      renderPage("error", {
        ...res.locals,
        title: "Not found",
        heading: "Not found",
        message: "There is no such conversation, or it is not in one of your team's mailboxes.",
      }),
    );
}

const squash = (s: string): string => s.replace(/\s+/gu, " ").trim();

const intParam = (v: unknown): number | null => (typeof v === "string" && /^\d{1,12}$/u.test(v) ? Number(v) : null);

/** The queue, a conversation, and what a reviewer does on it (behind requireUser). */
export function pageRoutes(deps: WebDeps, router: Router): void {
  const now = () => (deps.now ?? (() => new Date()))();
  const review = { store: deps.store, config: deps.config, now: deps.now };

  router.get("/", async (req, res, next) => {
    try {
      const user = userOf(req);
      const visible = await visibleMailboxIds(deps.store, user);
      const filter = queueFilter(req.query, visible, user.id);
      const offset = Math.max(0, intParam(req.query.offset) ?? 0);
      const [page, counts] = await Promise.all([
        queuePage(deps.store, filter, { offset, limit: PAGE }, now()),
        queueCounts(deps.store, filter, now()),
      ]);
      const link = (o: number) => {
        const p = new URLSearchParams(
          Object.entries(req.query).filter(([k, v]) => k !== "offset" && typeof v === "string") as [string, string][],
        );
        if (o > 0) p.set("offset", String(o));
        return `/?${p.toString()}`;
      };
      const mailboxes = deps.config.mailboxes.map((m) => m.name);
      res.type("html").send(
        renderPage("queue", {
          ...res.locals,
          title: "Queue",
          page: "queue",
          now: now(),
          filter,
          counts,
          rows: page.rows,
          mailboxes,
          priorities: PRIORITIES,
          noTeam: visible !== null && visible.length === 0,
          prev: offset > 0 ? link(Math.max(0, offset - PAGE)) : null,
          next: page.more ? link(offset + PAGE) : null,
        }),
      );
    } catch (err) {
      next(err);
    }
  });

  router.get("/c/:id", async (req, res, next) => {
    try {
      const user = userOf(req);
      const id = intParam(req.params.id);
      const view = id === null ? null : await conversationView(deps.store, id, await visibleMailboxIds(deps.store, user));
      if (!view) return notFound(res);
      await auditView(deps.store, view.conversation.id, user.email, clientIp(req));
      const draft = [...view.drafts].reverse().find((d) => d.status === "pending" || d.status === "generating") ?? null;
      const editors = await deps.store.read((em) => editorsOf(em, view.conversation.id, user.email, now()));
      res.type("html").send(
        renderPage("conversation", {
          ...res.locals,
          title: view.conversation.subject || "(no subject)",
          now: now(),
          c: view.conversation,
          mailbox: view.mailbox,
          assignee: view.assignee,
          // The quoted part is offered only when the full text says more than the new text.
          messages: view.messages.map((m) => ({ ...m, quoted: squash(m.text) !== squash(m.newText) })),
          triage: view.triage,
          draft,
          editors,
          outbox: view.outbox,
          history: view.history,
          notes: view.notes,
          priorities: PRIORITIES,
        }),
      );
    } catch (err) {
      next(err);
    }
  });

  /** The conversation of a POST, when the user may act on it; answers 404 otherwise. */
  const actionTarget = async (req: Request, res: Response) => {
    const id = intParam(req.params.id);
    const view = id === null ? null : await conversationView(deps.store, id, await visibleMailboxIds(deps.store, userOf(req)));
    if (!view) notFound(res);
    return view;
  };

  /** Runs an approval-path action; an ApprovalError becomes a message on the conversation page. */
  const act =
    (handler: (req: Request, res: Response, view: NonNullable<Awaited<ReturnType<typeof actionTarget>>>) => Promise<string>) =>
    async (req: Request, res: Response, next: (err: unknown) => void) => {
      try {
        const view = await actionTarget(req, res);
        if (!view) return;
        try {
          const redirect = await handler(req, res, view);
          res.redirect(303, redirect);
        } catch (err) {
          if (!(err instanceof ApprovalError)) throw err;
          req.session.flash = { kind: "error", text: err.message };
          res.redirect(303, `/c/${view.conversation.id}`);
        }
      } catch (err) {
        next(err);
      }
    };

  /** After approving or rejecting: straight to the next conversation of the queue, or the queue. */
  const nextInQueue = async (req: Request, after: number): Promise<string> => {
    const user = userOf(req);
    const filter = queueFilter({}, await visibleMailboxIds(deps.store, user), user.id);
    const page = await queuePage(deps.store, filter, { offset: 0, limit: 3 }, now());
    const next = page.rows.find((r) => r.id !== after);
    return next ? `/c/${next.id}` : "/";
  };

  router.post(
    "/c/:id/drafts/:draftId/approve",
    act(async (req, _res, view) => {
      const body = optionalField(req, "body")?.replace(/\r\n/gu, "\n");
      // Another reviewer is editing this draft: approving over their edit needs an explicit take-over.
      const editors = await deps.store.read((em) => editorsOf(em, view.conversation.id, userOf(req).email, now()));
      if (editors.length > 0 && field(req, "takeover") !== "1")
        throw new ApprovalError("being-edited", `${editors.join(", ")} is editing this draft. Take it over to approve it anyway.`);
      const r = await approveDraft(review, {
        draftId: intParam(req.params.draftId) ?? -1,
        actor: userOf(req).email,
        body,
        expected: { conversationId: view.conversation.id, mailbox: view.mailbox },
      });
      req.session.flash = { kind: "ok", text: `Reply approved; sending to ${r.to.join(", ")}.` };
      return nextInQueue(req, view.conversation.id);
    }),
  );

  router.post(
    "/c/:id/drafts/:draftId/reject",
    act(async (req, _res, view) => {
      await rejectDraft(review, {
        draftId: intParam(req.params.draftId) ?? -1,
        actor: userOf(req).email,
        reason: field(req, "reason"),
        expected: { conversationId: view.conversation.id, mailbox: view.mailbox },
      });
      req.session.flash = { kind: "ok", text: "Draft rejected; nothing was sent." };
      return nextInQueue(req, view.conversation.id);
    }),
  );

  router.post(
    "/c/:id/drafts/:draftId/regenerate",
    act(async (req, _res, view) => {
      await regenerateDraft(review, {
        draftId: intParam(req.params.draftId) ?? -1,
        actor: userOf(req).email,
        instruction: field(req, "instruction"),
        expected: { conversationId: view.conversation.id, mailbox: view.mailbox },
      });
      req.session.flash = { kind: "ok", text: "A new draft is being written." };
      return `/c/${view.conversation.id}`;
    }),
  );

  router.post(
    "/c/:id/reply",
    act(async (req, _res, view) => {
      const r = await writeReply(review, {
        conversationId: view.conversation.id,
        actor: userOf(req).email,
        body: field(req, "body").replace(/\r\n/gu, "\n"),
        expected: { mailbox: view.mailbox },
      });
      req.session.flash = { kind: "ok", text: `Reply approved; sending to ${r.to.join(", ")}.` };
      return nextInQueue(req, view.conversation.id);
    }),
  );

  router.post(
    "/c/:id/assign",
    act(async (req, _res, view) => {
      const user = userOf(req);
      await assignConversation(deps.store, view.conversation.id, field(req, "to") === "me" ? user.id : null, user.email);
      return `/c/${view.conversation.id}`;
    }),
  );

  router.post(
    "/c/:id/notes",
    act(async (req, _res, view) => {
      const body = field(req, "body").trim();
      if (!body) throw new ApprovalError("empty-body", "A note needs some text.");
      await addNote(deps.store, view.conversation.id, userOf(req).email, body);
      return `/c/${view.conversation.id}#notes`;
    }),
  );

  router.post(
    "/c/:id/priority",
    act(async (req, _res, view) => {
      const priority = field(req, "priority") as Priority;
      if (!(PRIORITIES as readonly string[]).includes(priority)) throw new ApprovalError("not-found", "unknown priority");
      const from = view.messages.filter((m) => m.direction === "inbound").at(-1)?.receivedAt ?? now();
      await setPriorityByReviewer(deps.store, view.conversation.id, priority, slaDueAt(priority, from, deps.config.sla), userOf(req).email);
      return `/c/${view.conversation.id}`;
    }),
  );

  router.post(
    "/c/:id/status",
    act(async (req, _res, view) => {
      const status = field(req, "status") as ConversationStatus;
      if (!STATUSES.includes(status)) throw new ApprovalError("not-found", "unknown status");
      await setConversationStatus(deps.store, view.conversation.id, status, userOf(req).email);
      return `/c/${view.conversation.id}`;
    }),
  );

  // A message's HTML, for the sandboxed frame on the conversation page; remote images only when asked.
  router.get("/c/:id/m/:mid/frame", async (req, res, next) => {
    try {
      const id = intParam(req.params.id);
      const mid = intParam(req.params.mid);
      const visible = await visibleMailboxIds(deps.store, userOf(req));
      const m = mid === null ? null : await deps.store.read((em) => messageHtml(em, mid));
      if (!m || m.conversationId !== id || (visible && !visible.includes(m.mailboxId)) || !m.html) return notFound(res);
      const remoteImages = req.query.images === "1";
      // cid: images of this message go in as data: URLs (raster types, up to 2 MB each): a request from the
      // sandboxed frame is cross-site and carries no session cookie, so a link to /a/:id could not be served.
      const own = await deps.store.read((em) => inlineImagesOf(em, mid!));
      const inline = new Map<string, string>();
      for (const a of own) {
        if (a.size > 2 * 1024 * 1024) continue;
        const bytes = await deps.store.read((em) => attachmentBytes(em, a.id));
        if (bytes) inline.set(a.contentId.replace(/^<|>$/gu, ""), `data:${a.contentType};base64,${bytes.toString("base64")}`);
      }
      res.set(emailFrameHeaders({ remoteImages }));
      res.send(emailFrameDocument(m.html, { remoteImages, cidUrl: (cid) => inline.get(cid) ?? null }));
    } catch (err) {
      next(err);
    }
  });

  router.get("/a/:id", async (req, res, next) => {
    try {
      const id = intParam(req.params.id);
      const visible = await visibleMailboxIds(deps.store, userOf(req));
      const a = id === null ? null : await deps.store.read((em) => attachmentOf(em, id));
      if (!a || (visible && !visible.includes(a.mailboxId))) return notFound(res);
      const bytes = await deps.store.read((em) => readBlob(em, a.blobId));
      const headers = attachmentHeaders({ filename: a.filename, contentType: a.contentType, size: bytes.length });
      res.set(headers).send(bytes);
    } catch (err) {
      next(err);
    }
  });
}
