import type { Request, Response, Router } from "express";
import { appendEvent, eventsAfter, lastEventId, type FeedEvent } from "../store/events.js";
import { visibleMailboxIds } from "../store/teams.js";
import { field, userOf, type WebDeps } from "./context.js";

/**
 * Live updates (server-sent events) at GET /api/events, read from the events table: a reviewer
 * connected to one process sees work done by any other (MySQL). Each event carries its id; a browser
 * that reconnects sends Last-Event-ID and resumes after it. Only events of conversations in the
 * user's mailboxes are sent (and events of no conversation, which carry no mail content, are not).
 * Presence ("Ana is viewing / editing") is an event too: POST /api/conversations/:id/presence.
 */

/** Events the page reacts to; everything else stays on the server. */
const LIVE = /^(message\.stored|triage\.done|draft\.|outbox\.|conversation\.|presence)/u;

const POLL_MS = 500;
const KEEPALIVE_MS = 20_000;

export function liveRoutes(deps: WebDeps, router: Router): void {
  router.get("/api/events", async (req: Request, res: Response, next) => {
    try {
      const user = userOf(req);
      const visible = await visibleMailboxIds(deps.store, user);
      const header = req.headers["last-event-id"];
      const resume = typeof header === "string" && /^\d{1,15}$/u.test(header) ? Number(header) : null;
      let cursor = resume ?? (await deps.store.read((em) => lastEventId(em)));
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
      res.write(`retry: 2000\n\n`);
      let closed = false;
      let lastWrite = Date.now();
      req.on("close", () => (closed = true));
      const send = (e: FeedEvent) => {
        const data = { type: e.type, conversationId: e.conversationId, ...e.payload, at: e.createdAt.toISOString() };
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`);
        lastWrite = Date.now();
      };
      while (!closed) {
        const batch = await deps.store.read((em) => eventsAfter(em, cursor));
        for (const e of batch) {
          cursor = e.id;
          if (!LIVE.test(e.type) || e.mailboxId === null) continue;
          if (visible && !visible.includes(e.mailboxId)) continue;
          send(e);
        }
        if (Date.now() - lastWrite > KEEPALIVE_MS) {
          res.write(`: keep-alive\n\n`);
          lastWrite = Date.now();
        }
        if (batch.length < 200) await new Promise((r) => setTimeout(r, POLL_MS));
      }
      res.end();
    } catch (err) {
      if (!res.headersSent) next(err);
      else res.end();
    }
  });

  // "I am viewing / editing this conversation": others on it see a banner; it lapses after 30 s unless repeated.
  router.post("/api/conversations/:id/presence", async (req, res, next) => {
    try {
      const user = userOf(req);
      const id = Number(req.params.id);
      const state = field(req, "state");
      if (!Number.isInteger(id) || !["viewing", "editing", "left"].includes(state)) {
        res.status(400).json({ error: "state must be viewing, editing or left" });
        return;
      }
      const visible = await visibleMailboxIds(deps.store, user);
      const conv = await deps.store.read((em) => em.getRepository<{ id: number; mailboxId: number }>("Conversation").findOneBy({ id }));
      if (!conv || (visible && !visible.includes(conv.mailboxId))) {
        res.status(404).json({ error: "no such conversation (or not one of your team's)" });
        return;
      }
      await deps.store.tx((em) =>
        appendEvent(em, "presence", id, { user: user.email, state, until: new Date(Date.now() + 30_000).toISOString() }),
      );
      res.json({ id, state });
    } catch (err) {
      next(err);
    }
  });
}
