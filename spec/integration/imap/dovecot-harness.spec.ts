import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";

function message(subject: string, body = "Hello.\r\n"): string {
  return [
    "From: Customer <customer@example.com>",
    "To: Support <support@example.com>",
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W+/g, "-")}@example.com>`,
    "Date: Mon, 02 Mar 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    body,
  ].join("\r\n");
}

async function connect(imap: Dovecot, user = "support", pass = "secret"): Promise<ImapFlow> {
  const client = new ImapFlow({ host: imap.host, port: imap.port, secure: false, auth: { user, pass }, logger: false });
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function withClient<T>(imap: Dovecot, fn: (c: ImapFlow) => Promise<T>, user = "support", pass = "secret"): Promise<T> {
  const client = await connect(imap, user, pass);
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function uidValidity(imap: Dovecot, folder: string): Promise<bigint> {
  return withClient(imap, async (c) => (await c.mailboxOpen(folder)).uidValidity);
}

async function messageCount(imap: Dovecot, folder: string): Promise<number> {
  return withClient(imap, async (c) => (await c.mailboxOpen(folder)).exists);
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port });
    s.on("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

/** pids of processes whose command line mentions the string (pgrep exits 1 when there are none). */
function pgrep(pattern: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch (e) {
    if ((e as { status?: number }).status === 1) return [];
    throw e;
  }
}

describe("Dovecot test harness (spec/support/dovecot.ts)", function () {
  let imap: Dovecot;

  before(async function () {
    imap = await startDovecot();
  });

  after(async function () {
    await imap?.stop();
  });

  it("serves IMAP on 127.0.0.1 with IDLE, UIDPLUS, CONDSTORE and QRESYNC to the default user", async function () {
    assert.equal(imap.host, "127.0.0.1");
    assert.ok(imap.port > 1024);
    assert.deepEqual(imap.users, [{ user: "support", password: "secret" }]);
    await withClient(imap, async (c) => {
      for (const cap of ["IDLE", "UIDPLUS", "CONDSTORE", "QRESYNC"]) assert.ok(c.capabilities.has(cap), cap);
    });
  });

  it("append returns the APPENDUID, and the message can be fetched back by that UID", async function () {
    const raw = message("fetch me back");
    const uid = await imap.append("support", "INBOX", raw, ["\\Seen"]);
    assert.ok(Number.isInteger(uid) && uid > 0);
    await withClient(imap, async (c) => {
      const box = await c.mailboxOpen("INBOX");
      assert.equal(typeof box.uidValidity, "bigint");
      assert.ok(box.uidValidity > 0n);
      const fetched = await c.fetchOne(String(uid), { uid: true, source: true, flags: true }, { uid: true });
      assert.ok(fetched);
      assert.equal(fetched.uid, uid);
      assert.equal(fetched.source?.toString(), raw);
      assert.ok(fetched.flags?.has("\\Seen"));
    });
  });

  it("append to a missing folder creates it, and recreateFolder gives it a new UIDVALIDITY, empty, UIDs from 1", async function () {
    assert.equal(await imap.append("support", "Archive", message("archived 1")), 1);
    assert.equal(await imap.append("support", "Archive", message("archived 2")), 2);
    const before = await uidValidity(imap, "Archive");
    await imap.recreateFolder("support", "Archive");
    assert.notEqual(await uidValidity(imap, "Archive"), before);
    assert.equal(await messageCount(imap, "Archive"), 0);
    assert.equal(await imap.append("support", "Archive", message("archived 3")), 1);
  });

  it("recreateFolder(INBOX) changes the UIDVALIDITY of INBOX, empties it, numbers new mail from UID 1, keeps the port", async function () {
    const port = imap.port;
    await imap.append("support", "INBOX", message("before reset"));
    const before = await uidValidity(imap, "INBOX");
    const archive = await uidValidity(imap, "Archive");
    assert.ok((await messageCount(imap, "INBOX")) > 0);
    await imap.recreateFolder("support", "INBOX");
    assert.equal(imap.port, port);
    const after = await uidValidity(imap, "INBOX");
    assert.notEqual(after, before);
    assert.equal(await messageCount(imap, "INBOX"), 0);
    assert.equal(await imap.append("support", "INBOX", message("after reset")), 1);
    assert.equal(await uidValidity(imap, "INBOX"), after);
    assert.equal(await uidValidity(imap, "Archive"), archive, "other folders keep theirs");
    assert.equal(await messageCount(imap, "Archive"), 1);
  });

  it("recreateFolder(INBOX, { keepMessages }) keeps the messages, renumbered from 1 under a new UIDVALIDITY", async function () {
    await imap.append("support", "INBOX", message("kept 2"));
    await imap.append("support", "INBOX", message("kept 3"));
    const before = await uidValidity(imap, "INBOX");
    await imap.recreateFolder("support", "INBOX", { keepMessages: true });
    await withClient(imap, async (c) => {
      const box = await c.mailboxOpen("INBOX");
      assert.notEqual(box.uidValidity, before);
      assert.equal(box.exists, 3);
      const uids: number[] = [];
      for await (const m of c.fetch("1:*", { uid: true })) uids.push(m.uid);
      assert.deepEqual(uids, [1, 2, 3]);
    });
  });

  it("restart keeps the mail, the UIDVALIDITY and the port", async function () {
    const port = imap.port;
    const uid = await imap.append("support", "INBOX", message("survives restart"));
    const before = await uidValidity(imap, "INBOX");
    const client = await connect(imap);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    await imap.restart();
    await closed; // an open connection is dropped by the restart
    assert.equal(imap.port, port);
    await withClient(imap, async (c) => {
      const box = await c.mailboxOpen("INBOX");
      assert.equal(box.uidValidity, before);
      const fetched = await c.fetchOne(String(uid), { uid: true, envelope: true }, { uid: true });
      assert.ok(fetched);
      assert.equal(fetched.envelope?.subject, "survives restart");
    });
  });

  it("setPassword makes the old password fail and the new one work; a failed login does not slow down later ones", async function () {
    await imap.setPassword("support", "changed");
    assert.deepEqual(imap.users, [{ user: "support", password: "changed" }]);
    await assert.rejects(connect(imap, "support", "secret"), (e: { authenticationFailed?: boolean }) => {
      assert.equal(e.authenticationFailed, true);
      return true;
    });
    let started = Date.now();
    await withClient(imap, async (c) => assert.ok(c.authenticated), "support", "changed");
    assert.ok(Date.now() - started < 1000, `login after a failed one took ${Date.now() - started} ms`);
    // the harness itself logs in with the new password
    assert.ok((await imap.append("support", "INBOX", message("after password change"))) > 0);
    await imap.setPassword("support", "secret"); // a second rewrite soon after the first is seen too
    started = Date.now();
    await withClient(imap, async (c) => assert.ok(c.authenticated));
    assert.ok(Date.now() - started < 1000, `login took ${Date.now() - started} ms`);
  });

  it("allows 20 simultaneous connections of one user", async function () {
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(imap)));
    try {
      for (const c of clients) assert.ok(c.usable);
    } finally {
      await Promise.all(clients.map((c) => c.logout().catch(() => c.close())));
    }
  });

  it("appendMany stores 500 small messages in order over one connection", async function () {
    const raws = Array.from({ length: 500 }, (_, i) => message(`bulk ${i}`, `Message number ${i}.\r\n`));
    const before = await withClient(imap, async (c) => (await c.mailboxOpen("Bulk").catch(() => null))?.exists ?? 0);
    assert.equal(before, 0);
    await imap.appendMany("support", "Bulk", raws);
    await withClient(imap, async (c) => {
      const box = await c.mailboxOpen("Bulk");
      assert.equal(box.exists, 500);
      const last = await c.fetchOne("*", { uid: true, envelope: true });
      assert.ok(last);
      assert.equal(last.uid, 500);
      assert.equal(last.envelope?.subject, "bulk 499");
    });
  });

  it("accepts a 30 MB APPEND", async function () {
    const line = "x".repeat(998) + "\r\n";
    const body = line.repeat(Math.ceil((30 * 1024 * 1024) / line.length));
    const raw = Buffer.from(message("thirty megabytes", body));
    assert.ok(raw.length >= 30 * 1024 * 1024);
    const uid = await imap.append("support", "Large", raw);
    await withClient(imap, async (c) => {
      await c.mailboxOpen("Large");
      const fetched = await c.fetchOne(String(uid), { uid: true, size: true }, { uid: true });
      assert.ok(fetched);
      assert.equal(fetched.size, raw.length);
    });
  });

  it("runs instances side by side; stop closes the port, ends its dovecot processes and removes its folder", async function () {
    const other = await startDovecot({ users: [{ user: "a@example.com", password: "pw-a" }, { user: "b", password: "pw-b" }] });
    let stopped = false;
    try {
      assert.notEqual(other.port, imap.port);
      assert.equal(await other.append("b", "INBOX", message("for b")), 1);
      const config = join(other.dir, "dovecot.conf");
      const masters = pgrep(config);
      assert.equal(masters.length, 1, "one master runs with this config");
      const children = execFileSync("pgrep", ["-P", String(masters[0])], { encoding: "utf8" }).split("\n").filter(Boolean);
      assert.ok(children.length > 0);

      await other.stop();
      stopped = true;
      assert.deepEqual(pgrep(config), []);
      const left = children.filter((pid) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readStat(pid)));
      assert.deepEqual(left, [], "no child process of its master is left");
      assert.equal(await portRefuses(other.port), true);
      assert.equal(existsSync(other.dir), false);
      await other.stop(); // idempotent

      // the first instance is untouched
      assert.ok((await messageCount(imap, "INBOX")) > 0);
    } finally {
      if (!stopped) await other.stop();
    }
  });
});

function readStat(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return ") Z ";
  }
}
