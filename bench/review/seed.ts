/**
 * The review benchmark's database, as the gateway leaves it after intake, triage and drafting:
 * - the one long conversation (BIG_MESSAGES messages, alternating customer and support, quoted history,
 *   a few with HTML or an attachment) and a small share of the single-message conversations go through
 *   the real intake (MIME composed with nodemailer, parsed, threaded and stored by `Intake`);
 * - the other conversations are written with plain multi-row INSERTs of the same columns and values
 *   intake and the later jobs write (their raw bytes are one shared blob: no measured page reads them);
 * - then every customer message gets its triage row (varied priority, category, summary; the
 *   conversation's priority and SLA due time follow the latest, spread so that many are overdue), every
 *   answered one an approved draft and a sent outbox entry, every open conversation a pending draft
 *   of its latest customer message, with the events and audit entries those steps append.
 */
import type { Config } from "../../src/config/schema.js";
import { normalizeSubject } from "../../src/core/subject.js";
import { intakeOptions } from "../../src/pipeline/intakeOptions.js";
import { Intake, type RawInput } from "../../src/pipeline/intake.js";
import { hashPassword } from "../../src/review/passwords.js";
import { ensureMailbox } from "../../src/store/mailboxes.js";
import { dbDate, dbJson, run, select, type SqlValue } from "../../src/store/sql.js";
import type { Store } from "../../src/store/store.js";
import { addUser } from "../../src/store/users.js";
import { compose } from "../../spec/support/compose.js";
import {
  BIG_MESSAGES,
  bigConversation,
  conversationState,
  HOUR,
  MAILBOXES,
  plannedConversation,
  type PlannedConversation,
  type StoredConversation,
} from "./plan.js";
import { CONVERSATION_COLUMNS, followUps, insertRows, MESSAGE_COLUMNS, messageRow, writeFollowers } from "./rows.js";
import { chance, int, mulberry32, pick, type Rng } from "./text.js";

export { BIG_MESSAGES, MAILBOXES } from "./plan.js";
export { EMBEDDING_DIM } from "./rows.js";

/** The admin the benchmark logs in as (assigned some conversations, so `assigned=me` has rows). */
export const BENCH_USER = "bench@team.example";
export const BENCH_PASSWORD = "bench password, long enough";
const REVIEWERS = ["rita@team.example", "omar@team.example", "li.wei@team.example", "sven@team.example"];

export interface SeedPlan {
  /** Open conversations (each waiting with a pending draft), the big one included. */
  open: number;
  seed: number;
}

export interface Seeded {
  bigConversationId: number;
  /** Pending drafts of the other open conversations, shuffled: what the approvals take, in order. */
  pendingDrafts: number[];
  /** Open conversations assigned to the benchmark user. */
  mine: number;
  rows: Record<string, number>;
  intakeSeconds: number;
  bulkSeconds: number;
  conversations: { open: number; pending: number; closed: number; viaIntake: number };
}

const clock = () => performance.now();

// ---------------------------------------------------------------------------------------------------
// Intake: the big conversation and a share of the small ones

async function rawOf(c: PlannedConversation, i: number, rng: Rng, attach: boolean): Promise<Buffer> {
  const m = c.messages[i]!;
  const mailbox = MAILBOXES[c.mailbox]!;
  const cust = `${c.customer.name} <${c.customer.address}>`;
  const refs = c.messages.slice(Math.max(0, i - 20), i).map((p) => `<${p.messageId}>`);
  return compose({
    messageId: `<${m.messageId}>`,
    from: m.direction === "inbound" ? cust : `Support <${mailbox.address}>`,
    to: m.direction === "inbound" ? mailbox.address : cust,
    subject: m.subject,
    date: m.date,
    ...(i > 0 ? { inReplyTo: `<${c.messages[i - 1]!.messageId}>`, references: refs } : {}),
    text: m.text,
    ...(m.html ? { html: m.html } : {}),
    ...(attach
      ? {
          attachments: [
            {
              filename: chance(rng, 0.5) ? "screenshot.png" : "invoice.pdf",
              content: Buffer.from(Array.from({ length: int(rng, 2048, 5120) }, () => int(rng, 0, 255))),
            },
          ],
        }
      : {}),
  });
}

async function viaIntake(
  store: Store,
  config: Config,
  intake: Intake,
  mailboxes: { id: number; address: string | null }[],
  c: PlannedConversation,
  rng: Rng,
  attachAt: Set<number>,
): Promise<StoredConversation> {
  const messageIds: number[] = [];
  let conversationId: number | null = null;
  for (let i = 0; i < c.messages.length; i += 50) {
    const inputs: RawInput[] = [];
    for (let j = i; j < Math.min(c.messages.length, i + 50); j++) {
      inputs.push({
        raw: await rawOf(c, j, rng, attachAt.has(j)),
        source: "imap",
        sourceRef: `INBOX/${j + 1}`,
        receivedAt: c.messages[j]!.receivedAt,
      });
    }
    for (const o of await intake.ingest(mailboxes[c.mailbox]!, inputs)) {
      if (o.kind !== "stored") throw new Error(`intake did not store a message of "${c.subject}": ${JSON.stringify(o)}`);
      if (conversationId !== null && o.conversationId !== conversationId)
        throw new Error(
          `intake threaded message ${messageIds.length} of "${c.subject}" into conversation ${o.conversationId}, not ${conversationId}`,
        );
      conversationId = o.conversationId;
      messageIds.push(o.messageRowId);
    }
  }
  const s = conversationState(c, config);
  await store.tx((em) =>
    run(
      em,
      "UPDATE `conversations` SET `status` = ?, `priority` = ?, `slaDueAt` = ?, `assigneeId` = ?, `lastMessageAt` = ? WHERE `id` = ?",
      [s.status, s.priority, s.slaDueAt, s.assigneeId, s.lastMessageAt, conversationId],
    ),
  );
  return { ...c, id: conversationId!, messageIds, viaIntake: true };
}

// ---------------------------------------------------------------------------------------------------

/** Users, mailboxes and conversations of `plan`; `log` hears about progress. */
export async function seedDatabase(store: Store, config: Config, plan: SeedPlan, log: (text: string) => void): Promise<Seeded> {
  const rng = mulberry32(plan.seed);
  const now = Date.now();
  const t0 = clock();

  await addUser(store, { email: BENCH_USER, role: "admin", passwordHash: await hashPassword(BENCH_PASSWORD) }, "bench");
  for (const email of REVIEWERS) await addUser(store, { email, role: "reviewer", passwordHash: "scrypt$unused$unused$32768" }, "bench");
  const users = await store.read((em) => select<{ id: number; email: string }>(em, "SELECT `id`, `email` FROM `users` ORDER BY `id`", []));
  const userEmails = new Map(users.map((u) => [Number(u.id), u.email]));
  const benchUserId = Number(users.find((u) => u.email === BENCH_USER)!.id);
  const userIds = [...userEmails.keys()];
  const mailboxes = [];
  for (const m of MAILBOXES) mailboxes.push(await ensureMailbox(store, m.name, m.address));
  if (mailboxes.some((m, i) => m.id !== i + 1)) throw new Error("the mailboxes did not get ids 1, 2, 3 in order");

  // Intake: the big conversation, then ~2 % of the small open ones (at least one).
  const intake = new Intake(store, intakeOptions(config));
  const big = await viaIntake(store, config, intake, mailboxes, bigConversation(rng, now, benchUserId), rng, new Set([10, 60, 150]));
  const intakeCount = Math.min(plan.open - 1, Math.max(1, Math.round(plan.open * 0.02)));
  const small: StoredConversation[] = [];
  for (let n = 0; n < intakeCount; n++) {
    small.push(
      await viaIntake(store, config, intake, mailboxes, plannedConversation(rng, n, "open", now, userIds, benchUserId), rng, new Set()),
    );
  }
  const intakeSeconds = (clock() - t0) / 1000;
  log(`  real intake: the ${BIG_MESSAGES}-message conversation and ${intakeCount} more in ${intakeSeconds.toFixed(1)} s`);

  // Bulk: the other open conversations, plus waiting-on-customer (pending) and closed ones.
  const t1 = clock();
  const [blob] = await store.read((em) => select<{ id: number }>(em, "SELECT MIN(`id`) AS id FROM `blobs`", []));
  const rawBlobId = Number(blob!.id);
  const counts = { open: plan.open, pending: Math.round(plan.open / 20), closed: Math.round(plan.open / 10) };
  const planned: PlannedConversation[] = [];
  let n = intakeCount;
  for (const kind of ["open", "pending", "closed"] as const) {
    const want = kind === "open" ? plan.open - 1 - intakeCount : counts[kind];
    for (let k = 0; k < want; k++) planned.push(plannedConversation(rng, n++, kind, now, userIds, benchUserId));
  }
  // Written in date order, as they would have arrived.
  planned.sort((a, b) => a.messages[0]!.date.getTime() - b.messages[0]!.date.getTime());
  const convIds = await insertRows(
    store,
    "conversations",
    CONVERSATION_COLUMNS,
    planned.map((c) => {
      const first = c.messages[0]!;
      const last = c.messages[c.messages.length - 1]!;
      const s = conversationState(c, config);
      return [
        c.mailbox + 1,
        c.subject,
        normalizeSubject(c.subject).key,
        s.status,
        s.priority,
        0,
        dbJson([c.customer.address, MAILBOXES[c.mailbox]!.address]),
        s.lastMessageAt,
        s.slaDueAt,
        s.assigneeId,
        dbDate(first.receivedAt),
        dbDate(last.receivedAt),
      ];
    }),
  );
  const messageRows: SqlValue[][] = [];
  planned.forEach((c, k) => c.messages.forEach((_, i) => messageRows.push(messageRow(c, convIds[k]!, c.mailbox + 1, i, rawBlobId))));
  const messageIds = await insertRows(store, "messages", MESSAGE_COLUMNS, messageRows);
  let next = 0;
  const bulk: StoredConversation[] = planned.map((c, k) => ({
    ...c,
    id: convIds[k]!,
    messageIds: c.messages.map(() => messageIds[next++]!),
    viaIntake: false,
  }));

  const all = [big, ...small, ...bulk];
  const followers = followUps(rng, all, config, userEmails, (c) => c === big);
  // The big conversation's page history: views, an assignment, a status change over its weeks.
  for (let k = 0; k < 40; k++) {
    const [, email] = pick(rng, [...userEmails.entries()]);
    const action = k === 3 ? "conversation.assign" : k === 20 ? "conversation.status" : "conversation.view";
    followers.audit.push([
      email,
      action,
      "conversation",
      String(big.id),
      dbJson(
        action === "conversation.view"
          ? { ip: "10.0.0.7" }
          : action === "conversation.assign"
            ? { assigneeId: benchUserId }
            : { status: "open" },
      ),
      dbDate(new Date(big.messages[k * 5]!.receivedAt.getTime() + HOUR)),
    ]);
  }
  const pending = await writeFollowers(store, followers, rawBlobId, config);
  const bulkSeconds = (clock() - t1) / 1000;

  const drafts = all.filter((c) => c.kind === "open" && c !== big).map((c) => pending.get(c.id)!);
  if (drafts.some((d) => d === undefined) || !pending.get(big.id)) throw new Error("an open conversation has no pending draft");
  for (let i = drafts.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [drafts[i], drafts[j]] = [drafts[j]!, drafts[i]!];
  }
  const tables = ["conversations", "messages", "attachments", "triages", "drafts", "outbox", "events", "audit_log", "jobs"];
  // InnoDB recomputes a table's index statistics in the background once a tenth of it changed; a
  // database in use has current ones, so the plans measured are not those of the minute after a bulk
  // load. (SQLite keeps no statistics unless ANALYZE runs, and the gateway never runs it.)
  if (store.dialect === "mysql") for (const table of [...tables, "mailboxes", "users"]) await store.ds.query(`ANALYZE TABLE \`${table}\``);
  const rows: Record<string, number> = {};
  for (const table of tables) {
    const [r] = await store.read((em) => select<{ n: number | string }>(em, `SELECT COUNT(*) AS n FROM \`${table}\``, []));
    rows[table] = Number(r?.n ?? 0);
  }
  return {
    bigConversationId: big.id,
    pendingDrafts: drafts,
    mine: all.filter((c) => c.kind === "open" && c.assignee === benchUserId).length,
    rows,
    intakeSeconds,
    bulkSeconds,
    conversations: { ...counts, viaIntake: intakeCount + 1 },
  };
}
