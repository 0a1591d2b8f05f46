import assert from "node:assert/strict";
import { pino } from "pino";
import request from "supertest";
import type { Express } from "express";
import { Metrics } from "../../../src/obs/metrics.js";
import { hashPassword } from "../../../src/review/passwords.js";
import type { AuditRow } from "../../../src/store/entities/review.js";
import type { Store } from "../../../src/store/store.js";
import { setConversationPriority } from "../../../src/store/conversations.js";
import { enqueueJob } from "../../../src/store/jobs.js";
import { addToTeam } from "../../../src/store/teams.js";
import { addUser } from "../../../src/store/users.js";
import { createApp } from "../../../src/web/app.js";
import { dialects, useStore } from "../../support/db.js";
import { customerMail, draftRow, outboxRows, pendingDraft, reviewConfig } from "../review/helpers.js";

const PASSWORD = "correct horse battery staple";

/** A browser-like agent: keeps cookies; `csrf()` reads the token from a page's forms. */
async function loggedIn(app: Express, email: string, password = PASSWORD) {
  const agent = request.agent(app);
  const login = await agent.get("/login");
  const token = /name="_csrf" value="([^"]+)"/u.exec(login.text)?.[1];
  assert.ok(token, "the login form carries a CSRF token");
  const res = await agent.post("/login").type("form").send({ _csrf: token, email, password, next: "/" });
  return { agent, res };
}

const csrfOf = (html: string): string => {
  const t = /name="_csrf" value="([^"]+)"/u.exec(html)?.[1];
  assert.ok(t, "the page carries a CSRF token");
  return t;
};

for (const d of dialects) {
  describe(`review page: log-in, teams, CSRF and the approval path (${d.name})`, function () {
    this.timeout(120_000);
    const db = useStore(d.fresh, "all");
    let app: Express;
    let store: Store;
    let supportConv: number;
    let billingConv: number;
    let draftId: number;

    before(async () => {
      store = db.store;
      const config = reviewConfig();
      app = createApp({ store, config, metrics: new Metrics(null), log: pino({ level: "silent" }) });
      const hash = await hashPassword(PASSWORD);
      await addUser(store, { email: "ada@team.example", role: "admin", passwordHash: hash }, "test");
      await addUser(store, { email: "rita@team.example", role: "reviewer", passwordHash: hash }, "test");
      await addUser(store, { email: "loner@team.example", role: "reviewer", passwordHash: hash }, "test");
      const support = await customerMail(store, { mailbox: "support", subject: "Refund for order 42" });
      const billing = await customerMail(store, { mailbox: "billing", subject: "Invoice question" });
      supportConv = support.conversationId;
      billingConv = billing.conversationId;
      const low = await customerMail(store, { mailbox: "support", subject: "Newsletter question" });
      const high = await customerMail(store, { mailbox: "support", subject: "Cannot log in" });
      await store.tx(async (em) => {
        await setConversationPriority(em, support.conversationId, "urgent", new Date(Date.now() + 3_600_000));
        await setConversationPriority(em, low.conversationId, "low", new Date(Date.now() + 86_400_000));
        await setConversationPriority(em, high.conversationId, "high", new Date(Date.now() - 600_000));
      });
      draftId = await pendingDraft(store, support, "Hello Jane, your refund is on its way.");
      await pendingDraft(store, billing, "About your invoice.");
      assert.deepEqual(await addToTeam(store, "front", { email: "rita@team.example", mailbox: "support" }, "test"), { ok: true });
    });

    it("sends an anonymous page request to the log-in page and refuses an anonymous POST (403: no CSRF token)", async () => {
      const page = await request(app).get(`/c/${supportConv}`);
      assert.equal(page.status, 303);
      assert.match(page.headers.location ?? "", /^\/login\?next=%2Fc%2F/u);
      const post = await request(app).post(`/c/${supportConv}/assign`).type("form").send({ to: "me" });
      assert.equal(post.status, 403, "no session, no CSRF token: refused before anything else");
    });

    it("refuses a wrong password, locks the account after repeated failures, and audits both", async () => {
      for (let i = 0; i < 5; i++) {
        const { res } = await loggedIn(app, "loner@team.example", "wrong password");
        assert.equal(res.status, 401);
      }
      const { res } = await loggedIn(app, "loner@team.example");
      assert.equal(res.status, 429, "locked even with the right password");
      const actions = await store.read((em) => em.getRepository<AuditRow>("Audit").find({ where: { actor: "loner@team.example" } }));
      assert.ok(actions.filter((a) => a.action === "login.failed").length >= 5);
      assert.ok(actions.some((a) => a.action === "user.locked"));
    });

    it("logs in with an HttpOnly SameSite=Lax session cookie, and a new session id", async () => {
      const agent = request.agent(app);
      const form = await agent.get("/login");
      const before = /draftgate\.sid=([^;]+)/u.exec(String(form.headers["set-cookie"]))?.[1];
      const res = await agent
        .post("/login")
        .type("form")
        .send({ _csrf: csrfOf(form.text), email: "rita@team.example", password: PASSWORD });
      assert.equal(res.status, 303);
      const cookie = String(res.headers["set-cookie"]);
      assert.match(cookie, /draftgate\.sid=/u);
      assert.match(cookie, /HttpOnly/iu);
      assert.match(cookie, /SameSite=Lax/iu);
      assert.notEqual(/draftgate\.sid=([^;]+)/u.exec(cookie)?.[1], before, "session fixation: the id changes at log-in");
    });

    it("shows a reviewer only their team's conversations; another mailbox's is 404 on every route", async () => {
      const { agent } = await loggedIn(app, "rita@team.example");
      const queue = await agent.get("/");
      assert.equal(queue.status, 200);
      assert.match(queue.text, /Refund for order 42/u);
      assert.doesNotMatch(queue.text, /Invoice question/u);
      assert.equal((await agent.get(`/c/${billingConv}`)).status, 404);
      const token = csrfOf(queue.text);
      const billingDraft = await store.read((em) =>
        em.query<{ id: number }[]>("SELECT id FROM drafts WHERE conversationId = ?", [billingConv]),
      );
      const approve = await agent
        .post(`/c/${billingConv}/drafts/${billingDraft[0]!.id}/approve`)
        .type("form")
        .send({ _csrf: token, body: "x" });
      assert.equal(approve.status, 404);
      assert.equal((await outboxRows(store)).length, 0, "nothing was approved");
    });

    it("lists the queue most urgent first, with priority in words and an overdue SLA said so", async () => {
      const { agent } = await loggedIn(app, "rita@team.example");
      const queue = await agent.get("/");
      assert.equal(queue.status, 200);
      const order = ["Refund for order 42", "Cannot log in", "Newsletter question"].map((s) => queue.text.indexOf(s));
      assert.ok(
        order.every((i) => i > 0),
        "all three listed",
      );
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        order,
        "urgent, then high, then low",
      );
      assert.match(queue.text, /Urgent/u);
      assert.match(queue.text, /overdue 10 min/u);
      assert.match(queue.text, /draft ready/u);
      // The filter counts: three open in rita's mailbox, none assigned yet, one overdue, one with a draft.
      const count = (label: string) => new RegExp(`${label} <span class="count">(\\d+)</span>`, "u").exec(queue.text)?.[1];
      assert.deepEqual(["Open", "Unassigned", "Assigned to me", "Overdue", "Has a draft"].map(count), ["3", "3", "0", "1", "1"]);
    });

    it("shows an admin every mailbox", async () => {
      const { agent } = await loggedIn(app, "ada@team.example");
      const queue = await agent.get("/");
      assert.match(queue.text, /Refund for order 42/u);
      assert.match(queue.text, /Invoice question/u);
    });

    it("refuses a state change without or with a wrong CSRF token (403), and does it with the right one, audited", async () => {
      const { agent } = await loggedIn(app, "rita@team.example");
      const page = await agent.get(`/c/${supportConv}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /Hello Jane, your refund is on its way\./u);
      assert.equal((await agent.post(`/c/${supportConv}/assign`).type("form").send({ to: "me" })).status, 403);
      assert.equal((await agent.post(`/c/${supportConv}/assign`).type("form").send({ to: "me", _csrf: "forged" })).status, 403);
      const ok = await agent
        .post(`/c/${supportConv}/assign`)
        .type("form")
        .send({ to: "me", _csrf: csrfOf(page.text) });
      assert.equal(ok.status, 303);
      const audit = await store.read((em) => em.getRepository<AuditRow>("Audit").find({ where: { action: "conversation.assign" } }));
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor, "rita@team.example");
    });

    it("approves an edited draft through the approval path: one outbox entry with the edited text, by the reviewer", async () => {
      const { agent } = await loggedIn(app, "rita@team.example");
      const page = await agent.get(`/c/${supportConv}`);
      const res = await agent
        .post(`/c/${supportConv}/drafts/${draftId}/approve`)
        .type("form")
        .send({ _csrf: csrfOf(page.text), body: "Hello Jane,\r\n\r\nyour refund of 20 EUR is on its way." });
      assert.equal(res.status, 303);
      const [entry, ...more] = await outboxRows(store);
      assert.equal(more.length, 0);
      assert.equal(entry!.body, "Hello Jane,\n\nyour refund of 20 EUR is on its way.");
      assert.equal(entry!.approvedBy, "rita@team.example");
      assert.equal((await draftRow(store, draftId)).status, "approved");
      // Twice is refused with a clear message, and nothing new is queued.
      const again = await agent
        .post(`/c/${supportConv}/drafts/${draftId}/approve`)
        .type("form")
        .send({ _csrf: csrfOf(page.text), body: "again" });
      assert.equal(again.status, 303);
      const shown = await agent.get(`/c/${supportConv}`);
      assert.match(shown.text, /already approved|no longer pending|not pending/iu);
      assert.equal((await outboxRows(store)).length, 1);
    });

    it("keeps the outbox and audit pages to admins; reading the audit log is itself audited", async () => {
      const { agent: reviewer } = await loggedIn(app, "rita@team.example");
      assert.equal((await reviewer.get("/admin/outbox")).status, 403);
      assert.equal((await reviewer.get("/admin/audit")).status, 403);
      const { agent: admin } = await loggedIn(app, "ada@team.example");
      const outbox = await admin.get("/admin/outbox");
      assert.equal(outbox.status, 200);
      assert.match(outbox.text, /Re: Refund for order 42/u);
      const audit = await admin.get("/admin/audit");
      assert.equal(audit.status, 200);
      assert.match(audit.text, /draft\.approve/u);
      const reads = await store.read((em) =>
        em.getRepository<AuditRow>("Audit").find({ where: { action: "audit.read", actor: "ada@team.example" } }),
      );
      assert.equal(reads.length, 1);
    });

    it("gives admins the operations page (mailboxes, quarantine, dead jobs, users, teams, tokens) and retries a dead job from it", async () => {
      const { agent: reviewer } = await loggedIn(app, "rita@team.example");
      assert.equal((await reviewer.get("/admin/ops")).status, 403);
      const dead = await store.tx((em) => enqueueJob(em, { type: "triage", payload: {}, maxAttempts: 1, uniqueKey: "ops-test" }));
      await store.tx((em) => em.query("UPDATE jobs SET state = 'dead', lastError = 'model gone' WHERE id = ?", [dead]));
      const { agent } = await loggedIn(app, "ada@team.example");
      const page = await agent.get("/admin/ops");
      assert.equal(page.status, 200);
      for (const heading of ["Mailboxes", "Quarantine", "Dead-lettered jobs", "Users", "Teams", "API tokens"])
        assert.match(page.text, new RegExp(`<h2>${heading}</h2>`, "u"));
      assert.match(page.text, /model gone/u);
      assert.match(page.text, /front/u);
      assert.equal(
        (
          await agent
            .post(`/admin/jobs/${dead}/retry`)
            .type("form")
            .send({ _csrf: csrfOf(page.text) })
        ).status,
        303,
      );
      const state = await store.read((em) => em.query<{ state: string }[]>("SELECT state FROM jobs WHERE id = ?", [dead]));
      assert.equal(state[0]!.state, "queued");
    });

    it("logs out: the old session cookie no longer opens a page", async () => {
      const { agent } = await loggedIn(app, "rita@team.example");
      const page = await agent.get("/");
      assert.equal(
        (
          await agent
            .post("/logout")
            .type("form")
            .send({ _csrf: csrfOf(page.text) })
        ).status,
        303,
      );
      assert.equal((await agent.get("/")).status, 303);
    });

    it("serves pages with a strict Content-Security-Policy (no inline script or style)", async () => {
      const res = await request(app).get("/login");
      const csp = String(res.headers["content-security-policy"]);
      assert.match(csp, /script-src 'self'/u);
      assert.doesNotMatch(csp, /unsafe-inline/u);
      assert.doesNotMatch(res.text, /<script>|style="/u);
    });
  });
}
