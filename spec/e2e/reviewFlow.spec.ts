import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { pino } from "pino";
import type { Browser } from "playwright-core";
import { configSchema, type Config } from "../../src/config/schema.js";
import { Metrics } from "../../src/obs/metrics.js";
import { Outbound } from "../../src/outbound/service.js";
import { Worker } from "../../src/queue/worker.js";
import { hashPassword } from "../../src/review/passwords.js";
import { setConversationPriority } from "../../src/store/conversations.js";
import type { AuditRow } from "../../src/store/entities/review.js";
import { Store } from "../../src/store/store.js";
import { addUser } from "../../src/store/users.js";
import { createApp } from "../../src/web/app.js";
import { listen } from "../../src/web/listen.js";
import { freshSqlite, type TestDatabase } from "../support/db.js";
import { startSmtpPeer, type SmtpPeer } from "../support/smtp.js";
import { customerMail, pendingDraft, type Customer } from "../integration/review/helpers.js";
import { launchBrowser, requireBrowser, watchedPage } from "../support/browser.js";

const log = pino({ level: "silent" });
const PASSWORD = "a long enough password 1";
/** Written by this run and linked from the README (desktop ones). */
const SHOTS = join(import.meta.dirname, "screenshots");

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("review page in Chromium: log in, work the queue, approve, the customer gets the reply", function () {
  this.timeout(180_000);
  let browser: Browser;
  let db: TestDatabase;
  let store: Store;
  let peer: SmtpPeer;
  let server: Server;
  let worker: Worker;
  let outbound: Outbound;
  let base: string;
  let urgent: Customer;

  before(async function () {
    requireBrowser(this);
    db = await freshSqlite();
    store = await Store.open(db.url);
    await store.migrate();
    peer = await startSmtpPeer();
    const config: Config = configSchema.parse({
      mail: { messageIdDomain: "draftgate.test" },
      mailboxes: [
        {
          name: "support",
          address: "support@example.com",
          smtp: { host: peer.host, port: peer.port, secure: false, user: peer.user, password: peer.password },
          reply: { displayName: "Acme Support" },
        },
      ],
      jobs: { pollIntervalMs: 20 },
    });
    await addUser(store, { email: "rita@example.com", role: "admin", passwordHash: await hashPassword(PASSWORD) }, "test");
    const low = await customerMail(store, { subject: "Question about the newsletter", text: "How do I unsubscribe?" });
    urgent = await customerMail(store, {
      subject: "Charged twice for order 77",
      from: "Jane Doe <jane@customer.example.net>",
      text: "I was charged twice. Please refund one.",
    });
    await store.tx(async (em) => {
      await setConversationPriority(em, low.conversationId, "low", new Date(Date.now() + 86_400_000));
      await setConversationPriority(em, urgent.conversationId, "urgent", new Date(Date.now() + 1_800_000));
    });
    await pendingDraft(store, urgent, "Hello Jane,\n\nsorry about that: we refund the second charge today.");
    await pendingDraft(store, low, "Hello, use the link at the bottom of any newsletter.");
    server = await listen(createApp({ store, config, metrics: new Metrics(null), log }), "127.0.0.1", 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    outbound = new Outbound({ store, config, log });
    worker = new Worker(
      store,
      outbound.handlers(),
      { concurrency: 2, leaseMs: 30_000, pollIntervalMs: 20, backoffBaseMs: 50, backoffMaxMs: 200, graceMs: 1000 },
      log,
    );
    worker.start();
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await outbound?.close();
    server?.close();
    await peer?.stop();
    await store?.close();
    await db?.drop();
  });

  it("logs in, shows the queue most urgent first, opens it, edits and approves; the SMTP server gets one threaded reply; the audit log names the reviewer", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const scripts: string[] = [];
    page.on("pageerror", (e) => scripts.push(String(e)));

    await page.goto(`${base}/`);
    assert.match(page.url(), /\/login\?next=/u);
    await page.getByLabel("E-mail").fill("rita@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${base}/`);

    const rows = page.locator("[data-queue] .subject");
    assert.deepEqual(await rows.allTextContents(), ["Charged twice for order 77", "Question about the newsletter"]);
    await page.screenshot({ path: join(SHOTS, "queue-desktop.png") });

    // Keyboard: j focuses the first row, Enter opens it.
    await page.keyboard.press("j");
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`/c/${urgent.conversationId}$`, "u"));
    await page.screenshot({ path: join(SHOTS, "conversation-desktop.png"), fullPage: true });

    const body = page.getByLabel("Reply text");
    await body.fill("Hello Jane,\n\nsorry about that: we refunded the second charge (EUR 49.00) today.");
    await page.getByRole("button", { name: "Approve & send" }).click();
    await page.waitForLoadState();
    assert.match((await page.locator(".flash").textContent()) ?? "", /Reply approved; sending to jane@customer\.example\.net/u);

    await waitFor(() => peer.to("jane@customer.example.net").length === 1, "the reply at the SMTP server");
    const mail = await simpleParser(peer.to("jane@customer.example.net")[0]!.raw);
    assert.equal(mail.subject, "Re: Charged twice for order 77");
    assert.equal(mail.inReplyTo, `<${urgent.messageId}>`);
    assert.match(String(mail.references), new RegExp(urgent.messageId.replace(/\./gu, "\\."), "u"));
    assert.match(mail.text ?? "", /we refunded the second charge \(EUR 49\.00\) today\./u);
    assert.equal(mail.from?.value[0]?.address, "support@example.com");

    const audit = await store.read((em) => em.getRepository<AuditRow>("Audit").find({ where: { actor: "rita@example.com" } }));
    const actions = audit.map((a) => a.action);
    assert.ok(actions.includes("login"), actions.join(","));
    assert.ok(actions.includes("conversation.view"), actions.join(","));
    assert.ok(
      actions.some((a) => a.startsWith("draft.approve")),
      actions.join(","),
    );
    assert.deepEqual(scripts, [], "no script errors on the pages");
    await context.close();
  });

  it("has no serious or critical accessibility violations (axe-core) on the login, queue and conversation pages", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
    const audit = async (what: string) => {
      // Injected through the DevTools protocol (the page's CSP would refuse an inline script tag).
      await page.evaluate(axeSource);
      const result = await page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: {
              run: (
                ctx: Document,
                opts: object,
              ) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
            };
          }
        ).axe;
        return axe.run(document, { resultTypes: ["violations"] });
      });
      const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(
        bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
        [],
        `${what}: accessibility violations`,
      );
    };
    await page.goto(`${base}/login`);
    await audit("login page");
    await page.getByLabel("E-mail").fill("rita@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${base}/`);
    await audit("queue");
    await page.locator("[data-queue] .row-link").first().click();
    await page.waitForURL(/\/c\/\d+$/u);
    await audit("conversation");
    await context.close();
  });

  it("renders attacker-controlled subject, sender, text and attachment names inert in the queue and the conversation", async () => {
    const payload = `<img src=x onerror="__xss('subject')"><script>__xss('s')</script>`;
    const hostile = await customerMail(store, {
      subject: `Help ${payload}`,
      from: `"<svg onload=__xss('name')>" <evil@attacker.example>`,
      text: `Hi <script>__xss('text')</script> <a href="javascript:__xss('href')">x</a> <iframe srcdoc="<script>__xss('srcdoc')</script>">`,
      html: `<p>Hi</p><img src="http://attacker.example/pixel.gif"><script>__xss('html')</script><a href="javascript:__xss('a')">click</a>`,
      attachments: [
        { filename: `"><img src=x onerror=__xss('file')>.html`, content: "<script>__xss('att')</script>", contentType: "text/html" },
      ],
    });
    await store.tx((em) => setConversationPriority(em, hostile.conversationId, "urgent", new Date(Date.now() + 60_000)));
    const w = await watchedPage(browser);
    await w.page.goto(`${base}/login`);
    await w.page.getByLabel("E-mail").fill("rita@example.com");
    await w.page.getByLabel("Password").fill(PASSWORD);
    await w.page.getByRole("button", { name: "Log in" }).click();
    await w.page.waitForURL(`${base}/`);
    await w.settle();
    assert.match((await w.page.locator("[data-queue]").textContent()) ?? "", /Help <img src=x onerror=/u, "shown as text");
    await w.page.goto(`${base}/c/${hostile.conversationId}`);
    // Open the original HTML (the sandboxed frame) too.
    await w.page.locator("details.html summary").click();
    await w.settle(500);
    assert.match((await w.page.locator("h1").first().textContent()) ?? "", /<script>/u, "the subject is text");
    assert.deepEqual(w.events.scripts, [], "no script ran");
    assert.deepEqual(w.events.offHost, [], "nothing left 127.0.0.1");
    await w.context.close();
  });

  it("works at phone width: the queue and a conversation, one pane at a time", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel("E-mail").fill("rita@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${base}/`);
    await page.screenshot({ path: join(SHOTS, "queue-phone.png"), fullPage: true });
    await page.locator("[data-queue] .row-link").first().click();
    await page.waitForURL(/\/c\/\d+$/u);
    await page.screenshot({ path: join(SHOTS, "conversation-phone.png"), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `no sideways scrolling at phone width (${overflow}px too wide)`);
    await context.close();
  });
});
