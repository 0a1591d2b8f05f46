import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageRow } from "../../../src/store/entities/mail.js";
import { Store } from "../../../src/store/store.js";
import { runCli, type CliResult } from "../../support/cli.js";
import { compose } from "../../support/compose.js";
import type { TestDatabase } from "../../support/db.js";
import { ID_DOMAIN, type Customer } from "./helpers.js";

/** The configuration the CLI specs run with: mailbox support@ with a display name, our Message-ID domain. */
const CONFIG = `mail:
  messageIdDomain: ${ID_DOMAIN}
mailboxes:
  - name: support
    address: support@example.com
    reply: { displayName: "Example Support" }
  - name: billing
    address: billing@example.com
`;

/** A database and config file for CLI runs (the built CLI, dist/), and a store on the same database for set-up and checks. */
export interface CliWorld {
  env: Record<string, string>;
  dir: string;
  store: Store;
  cli(args: string[]): Promise<CliResult>;
  /** Imports one customer message through the CLI; returns its conversation and message row. */
  importMail(opts?: { subject?: string; from?: string; inReplyTo?: string }): Promise<Customer>;
  close(): Promise<void>;
}

export async function cliWorld(fresh: () => Promise<TestDatabase>): Promise<CliWorld> {
  const db = await fresh();
  const dir = mkdtempSync(join(tmpdir(), "draftgate-review-cli-"));
  const configPath = join(dir, "config.yaml");
  writeFileSync(configPath, CONFIG);
  const env = { DATABASE_URL: db.url, DRAFTGATE_CONFIG: configPath };
  const cli = (args: string[]) => runCli(args, env);
  const migrated = await cli(["migrate"]);
  assert.equal(migrated.code, 0, migrated.stderr);
  const store = await Store.open(db.url);
  let n = 0;
  return {
    env,
    dir,
    store,
    cli,
    async importMail(opts = {}) {
      const messageId = `cli${++n}.${Date.now()}@customer.example.net`;
      const file = join(dir, `m${n}.eml`);
      writeFileSync(
        file,
        await compose({
          messageId: `<${messageId}>`,
          from: opts.from ?? "Jane Doe <jane@customer.example.net>",
          to: "support@example.com",
          subject: opts.subject ?? "Where is my order?",
          date: new Date(Date.UTC(2026, 2, 1, 9, n)),
          ...(opts.inReplyTo ? { inReplyTo: `<${opts.inReplyTo}>`, references: `<${opts.inReplyTo}>` } : {}),
          text: "Hello, my order 1234 has not arrived.",
        }),
      );
      const r = await cli(["import", "--mailbox", "support", "--json", file]);
      assert.equal(r.code, 0, r.stderr);
      const row = await store.read((em) => em.getRepository<MessageRow>("Message").findOneByOrFail({ messageId }));
      return { messageRowId: row.id, conversationId: row.conversationId, messageId } satisfies Customer;
    },
    async close() {
      await store.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
