import assert from "node:assert/strict";
import { pino } from "pino";
import { configSchema, type Config } from "../../../src/config/schema.js";
import { ImapClientFactory } from "../../../src/net/imapClient.js";
import { MailboxPoller } from "../../../src/ingest/imap/poller.js";
import { intakeOptions } from "../../../src/pipeline/intakeOptions.js";
import { Intake } from "../../../src/pipeline/intake.js";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import { ensureMailbox } from "../../../src/store/mailboxes.js";
import type { Store } from "../../../src/store/store.js";
import { waitFor } from "../../support/cli.js";
import { freshSqlite, useStore } from "../../support/db.js";
import { startDovecot, type Dovecot } from "../../support/dovecot.js";
import { testMessage } from "../../support/imap.js";

const log = pino({ level: "silent" });

/** Node's certificate verification failures (tls.TLSSocket#authorizationError codes). */
const CERT_ERROR = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID)$/;

interface TlsSettings {
  port: number;
  secure: boolean;
  requireTLS?: boolean;
  tls?: { rejectUnauthorized?: boolean; ca?: string };
}

/** A validated config with one mailbox "support" on the test Dovecot, with the given transport settings. */
function tlsConfig(dovecot: Dovecot, settings: TlsSettings): Config {
  return configSchema.parse({
    mailboxes: [
      {
        name: "support",
        address: "support@example.com",
        imap: { host: dovecot.host, user: "support", password: "secret", folders: ["INBOX"], ...settings },
      },
    ],
    imap: { initialSync: "all", pollSeconds: 3600, reconnectBaseSeconds: 0.05, reconnectMaxSeconds: 0.2, connectTimeoutSeconds: 5 },
  });
}

function factory(config: Config): ImapClientFactory {
  return new ImapClientFactory(config.mailboxes[0]!.imap!, config.imap, log);
}

const countMessages = (store: Store) => store.read((em) => em.getRepository("Message").count());

describe("IMAP over TLS against a real Dovecot (implicit TLS and STARTTLS)", function () {
  this.timeout(60_000);
  let dovecot: Dovecot;
  let caPem: string;
  let tlsPort: number;
  const db = useStore(freshSqlite);
  let running: MailboxPoller[] = [];

  before(async () => {
    dovecot = await startDovecot({ tls: true });
    assert.ok(dovecot.tlsPort !== null && dovecot.caPem !== null);
    tlsPort = dovecot.tlsPort;
    caPem = dovecot.caPem;
  });
  after(async () => dovecot?.stop());
  afterEach(async () => {
    await Promise.all(running.map((p) => p.stop()));
    running = [];
  });

  async function startPoller(config: Config): Promise<MailboxPoller> {
    const m = config.mailboxes[0]!;
    const row = await ensureMailbox(db.store, m.name, m.address);
    const p = new MailboxPoller({
      store: db.store,
      intake: new Intake(db.store, intakeOptions(config)),
      mailbox: { id: row.id, name: m.name, address: m.address },
      settings: m.imap!,
      config,
      log,
    });
    running.push(p);
    p.start();
    return p;
  }

  it("implicit TLS trusting the server's CA connects (verified certificate) and a poller ingests an appended message", async () => {
    const config = tlsConfig(dovecot, { port: tlsPort, secure: true, tls: { ca: caPem } });

    const client = await factory(config).connect();
    try {
      assert.equal(client.secureConnection, true);
      assert.ok(client.tls, "TLS session details are recorded");
      assert.equal(client.tls.authorized, true);
    } finally {
      await client.logout().catch(() => client.close());
    }

    const p = await startPoller(config);
    await waitFor(() => p.health.connected && p.health.lastSyncAt !== null, 10_000, "first sync over TLS");
    await dovecot.append("support", "INBOX", testMessage("over implicit TLS"));
    await waitFor(async () => (await countMessages(db.store)) === 1, 10_000, "the message to arrive");
    const rows = await db.store.read((em) => em.getRepository<MessageRow>("Message").find({ select: { subject: true } }));
    assert.deepEqual(
      rows.map((r) => r.subject),
      ["over implicit TLS"],
    );
    assert.equal(p.health.consecutiveFailures, 0);
    assert.equal(p.health.lastError, null);
  });

  it("implicit TLS without the CA (rejectUnauthorized defaults to true) is refused with a certificate error; a poller records it and keeps retrying", async () => {
    const config = tlsConfig(dovecot, { port: tlsPort, secure: true });
    assert.equal(config.mailboxes[0]!.imap!.tls, undefined);

    let connectError: { code?: string; message?: string } | undefined;
    await assert.rejects(factory(config).connect(), (e: { code?: string; message?: string }) => {
      connectError = e;
      assert.match(String(e.code), CERT_ERROR);
      assert.match(String(e.message), /certificate|verify|self.signed/i);
      return true;
    });

    await dovecot.append("support", "INBOX", testMessage("never fetched without trust"));
    const p = await startPoller(config);
    await waitFor(() => p.health.consecutiveFailures >= 1, 10_000, "the first failure");
    const first = p.health.consecutiveFailures;
    assert.equal(p.health.lastError, connectError!.message);
    assert.ok(p.health.lastErrorAt instanceof Date);
    await waitFor(() => p.health.consecutiveFailures >= first + 2, 10_000, "more failed retries");
    assert.equal(p.health.connected, false);
    assert.equal(p.health.polling, true, "it keeps the lease and keeps trying");
    assert.match(p.health.lastError ?? "", /certificate|verify|self.signed/i);
    assert.equal(await countMessages(db.store), 0, "nothing is ingested over an untrusted connection");
  });

  it("implicit TLS with rejectUnauthorized: false connects without the CA (encrypted, certificate not verified)", async () => {
    const config = tlsConfig(dovecot, { port: tlsPort, secure: true, tls: { rejectUnauthorized: false } });
    const client = await factory(config).connect();
    try {
      assert.equal(client.secureConnection, true);
      assert.ok(client.tls);
      assert.equal(client.tls.authorized, false);
      assert.ok(client.authenticated);
      await client.mailboxOpen("INBOX");
    } finally {
      await client.logout().catch(() => client.close());
    }
  });

  it("STARTTLS: secure false with requireTLS on the plain port upgrades to a verified TLS session before login", async () => {
    const config = tlsConfig(dovecot, { port: dovecot.port, secure: false, requireTLS: true, tls: { ca: caPem } });
    const client = await factory(config).connect();
    try {
      assert.equal(client.port, dovecot.port);
      assert.equal(client.secureConnection, true);
      assert.ok(client.tls, "TLS session details are recorded after STARTTLS");
      assert.equal(client.tls.authorized, true);
      assert.match(client.tls.version ?? "", /^TLSv1\.[23]$/);
      assert.ok(client.authenticated);
      await client.mailboxOpen("INBOX");
    } finally {
      await client.logout().catch(() => client.close());
    }
  });

  it("STARTTLS required without the CA fails with a certificate error instead of continuing in plain text", async () => {
    const config = tlsConfig(dovecot, { port: dovecot.port, secure: false, requireTLS: true });
    await assert.rejects(factory(config).connect(), (e: { code?: string; tlsFailed?: boolean }) => {
      assert.match(String(e.code), CERT_ERROR);
      assert.equal(e.tlsFailed, true);
      return true;
    });
  });
});
