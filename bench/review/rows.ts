/**
 * The review benchmark's bulk writes: multi-row INSERTs of the same columns and values that intake,
 * triage, drafting, approval and sending write (src/store/intakeWrites.ts, triageJob, approveDraft,
 * outbox), and the rows that follow each stored conversation: a triage per customer message, an
 * approved draft and a sent outbox entry per answered one, a pending draft of the latest unanswered
 * one, and their events and audit entries.
 */
import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { Config } from "../../src/config/schema.js";
import { slaDueAt } from "../../src/core/llm/sla.js";
import { dbDate, dbJson, run, select, type SqlValue } from "../../src/store/sql.js";
import type { Store } from "../../src/store/store.js";
import { MAILBOXES, PRIORITY_WEIGHTS, type PlannedConversation, type StoredConversation } from "./plan.js";
import { chance, int, pick, replyText, summary, weighted, type Rng } from "./text.js";

/** Floats in an approved draft's embedding: n_embd of the default model (Qwen3-4B). */
export const EMBEDDING_DIM = 2560;
const MODEL = "Qwen3-4B-Q4_K_M";
/** Statement size of the bulk INSERTs: bound parameters and (roughly) bytes. */
const MAX_PARAMS = 6000;
const MAX_BYTES = 2 * 1024 * 1024;
const SENTIMENT_WEIGHTS = { neutral: 55, negative: 35, positive: 10 };

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** Rows in multi-row INSERTs of at most MAX_PARAMS parameters / MAX_BYTES, in one transaction; the new ids in row order. */
export async function insertRows(
  store: Store,
  table: string,
  columns: readonly string[],
  rows: SqlValue[][],
  withIds = true,
): Promise<number[]> {
  if (rows.length === 0) return [];
  const head = `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(", ")}) VALUES `;
  const one = `(${columns.map(() => "?").join(", ")})`;
  return store.tx(async (em) => {
    const before = withIds ? await maxId(em, table) : 0;
    let batch: SqlValue[][] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await run(em, head + batch.map(() => one).join(", "), batch.flat());
      batch = [];
      bytes = 0;
    };
    for (const row of rows) {
      const size = row.reduce<number>((s, v) => s + (typeof v === "string" ? v.length : 8), 0);
      if (batch.length > 0 && ((batch.length + 1) * columns.length > MAX_PARAMS || bytes + size > MAX_BYTES)) await flush();
      batch.push(row);
      bytes += size;
    }
    await flush();
    if (!withIds) return [];
    // One writer, so the new rows are exactly those above the old maximum, in insertion order.
    const ids = (await select<{ id: number }>(em, `SELECT \`id\` FROM \`${table}\` WHERE \`id\` > ? ORDER BY \`id\``, [before])).map((r) =>
      Number(r.id),
    );
    if (ids.length !== rows.length) throw new Error(`${table}: inserted ${rows.length} rows, found ${ids.length} new ids`);
    return ids;
  });
}

async function maxId(em: EntityManager, table: string): Promise<number> {
  const [r] = await select<{ m: number | null }>(em, `SELECT MAX(\`id\`) AS m FROM \`${table}\``, []);
  return Number(r?.m ?? 0);
}

/** Column lists, space-separated (the order of each row's values). */
const columnList = (names: string) => names.split(" ");
export const CONVERSATION_COLUMNS = columnList(
  "mailboxId subject subjectKey status priority automated participants lastMessageAt slaDueAt assigneeId createdAt updatedAt",
);
export const MESSAGE_COLUMNS = columnList(
  "mailboxId conversationId dedupeKey messageId inReplyTo references subject fromAddress fromName to cc replyTo date receivedAt direction automated automatedReason text newText html headers contentType contentHash size rawBlobId source sourceRef threadRule createdAt",
);
const TRIAGE_COLUMNS = columnList(
  "messageRowId conversationId priority category sentiment language summary confidence flags decidedBy matchedRules model tokens durationMs slaDueAt createdAt",
);
const DRAFT_COLUMNS = columnList(
  "conversationId messageRowId status body origin flags model tokens durationMs reviewerId decidedBy decidedAt bodyHash originalBody reason embedding jobId createdAt updatedAt",
);
const OUTBOX_COLUMNS = columnList(
  "conversationId draftId mailboxId answeredMessageRowId state messageId fromAddress to cc subject inReplyTo references body bodyHash approvedBy approvedAt attempts lastError nextAttemptAt sentAt rawBlobId resolvedBy resolution resolvedAt createdAt updatedAt",
);
const AUDIT_COLUMNS = columnList("actor action subjectType subjectId detail createdAt");
const EVENT_COLUMNS = columnList("type conversationId payload createdAt");

/** The message row intake writes for a planned message (headers as mailparser reports them). */
export function messageRow(c: PlannedConversation, conversationId: number, mailboxId: number, i: number, rawBlobId: number): SqlValue[] {
  const m = c.messages[i]!;
  const mailbox = MAILBOXES[c.mailbox]!;
  const from =
    m.direction === "inbound" ? { address: c.customer.address, name: c.customer.name } : { address: mailbox.address, name: "Support" };
  const to = m.direction === "inbound" ? { address: mailbox.address, name: "" } : { address: c.customer.address, name: c.customer.name };
  const refs = c.messages.slice(0, i).map((p) => p.messageId);
  const inReplyTo = refs[refs.length - 1] ?? null;
  const headers: Record<string, string[]> = {
    from: [from.name ? `${from.name} <${from.address}>` : from.address],
    to: [to.name ? `${to.name} <${to.address}>` : to.address],
    ...(inReplyTo ? { "in-reply-to": [`<${inReplyTo}>`], references: [refs.map((r) => `<${r}>`).join(" ")] } : {}),
    subject: [m.subject],
    "message-id": [`<${m.messageId}>`],
    date: [m.date.toUTCString()],
    "mime-version": ["1.0"],
    "content-type": [m.html ? 'multipart/alternative; boundary="--_NmP-bench-Part_1"' : "text/plain; charset=utf-8"],
  };
  return [
    mailboxId,
    conversationId,
    sha256(`mid:${m.messageId}`),
    m.messageId,
    inReplyTo,
    dbJson(refs),
    m.subject,
    from.address,
    from.name,
    dbJson([to]),
    dbJson([]),
    dbJson([]),
    dbDate(m.date),
    dbDate(m.receivedAt),
    m.direction,
    0,
    null,
    m.text,
    m.newText,
    m.html,
    dbJson(headers),
    m.html ? "multipart/alternative" : "text/plain",
    sha256(m.text),
    400 + Buffer.byteLength(m.text) + (m.html ? m.html.length : 0),
    rawBlobId,
    "imap",
    `INBOX/${conversationId * 10 + i}`,
    i === 0 ? "new" : "reference",
    dbDate(m.receivedAt),
  ];
}

export interface Followers {
  triages: SqlValue[][];
  drafts: {
    row: SqlValue[];
    pendingOf: number | null;
    /** An approved draft: the message `i` of `c` it answered, who approved it and when (dbDate). */
    approved: { c: StoredConversation; i: number; by: string; at: string } | null;
  }[];
  events: SqlValue[][];
  audit: SqlValue[][];
}

/** The rows that follow `stored` conversations (intake's and the bulk's alike); `embeddingFor` says whose approved drafts get an embedding. */
export function followUps(
  rng: Rng,
  stored: StoredConversation[],
  config: Config,
  userEmails: Map<number, string>,
  embeddingFor: (c: StoredConversation) => boolean,
): Followers {
  const out: Followers = { triages: [], drafts: [], events: [], audit: [] };
  const reviewers = [...userEmails.entries()];
  for (const c of stored) {
    c.messages.forEach((m, i) => {
      const messageRowId = c.messageIds[i]!;
      // (intake appended its own message.stored events)
      if (!c.viaIntake)
        out.events.push(["message.stored", c.id, dbJson({ messageRowId, automated: false, direction: m.direction }), dbDate(m.receivedAt)]);
      if (m.direction !== "inbound") return;
      const isLatest = !c.messages.slice(i + 1).some((x) => x.direction === "inbound");
      const priority = isLatest ? c.priority : weighted(rng, PRIORITY_WEIGHTS);
      const triagedAt = new Date(m.receivedAt.getTime() + int(rng, 2, 40) * 1000);
      const sla = slaDueAt(priority, m.receivedAt, config.sla);
      out.triages.push([
        messageRowId,
        c.id,
        priority,
        c.category,
        weighted(rng, SENTIMENT_WEIGHTS),
        c.customer.lang,
        summary(rng, c.category),
        Math.round((0.55 + rng() * 0.44) * 100) / 100,
        dbJson(chance(rng, 0.1) ? ["needs-human"] : []),
        "model",
        dbJson([]),
        MODEL,
        int(rng, 40, 120),
        int(rng, 300, 2500),
        dbDate(sla),
        dbDate(triagedAt),
      ]);
      out.events.push(["triage.done", c.id, dbJson({ messageRowId, priority, decidedBy: "model" }), dbDate(triagedAt)]);
      const draftedAt = new Date(triagedAt.getTime() + int(rng, 5, 120) * 1000);
      const reply = c.messages[i + 1];
      if (reply?.direction === "outbound") {
        const [reviewerId, email] = pick(rng, reviewers);
        const body = reply.newText;
        const edited = chance(rng, 0.35);
        const approvedAt = dbDate(new Date(reply.date.getTime() - 60_000));
        out.drafts.push({
          row: [
            c.id,
            messageRowId,
            "approved",
            body,
            "model",
            dbJson([]),
            MODEL,
            int(rng, 80, 400),
            int(rng, 2000, 20000),
            reviewerId,
            email,
            approvedAt,
            sha256(body),
            edited ? `${body}\n\n(draft before the reviewer's edit)` : null,
            null,
            embeddingFor(c) ? dbJson(embedding(rng)) : null,
            null,
            dbDate(draftedAt),
            dbDate(reply.date),
          ],
          pendingOf: null,
          approved: { c, i, by: email, at: approvedAt },
        });
        out.events.push(["draft.ready", c.id, dbJson({ origin: "model" }), dbDate(draftedAt)]);
      } else {
        // Unanswered: pending when it is the latest, superseded when the customer wrote again first.
        const status = isLatest ? "pending" : "superseded";
        const body = replyText(rng, c.customer);
        out.drafts.push({
          row: [
            c.id,
            messageRowId,
            status,
            body,
            "model",
            dbJson(chance(rng, 0.15) ? ["promises-refund"] : []),
            MODEL,
            int(rng, 80, 400),
            int(rng, 2000, 20000),
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            dbDate(draftedAt),
            dbDate(draftedAt),
          ],
          pendingOf: status === "pending" ? c.id : null,
          approved: null,
        });
        out.events.push(["draft.ready", c.id, dbJson({ origin: "model" }), dbDate(draftedAt)]);
      }
    });
    const newest = c.messages[c.messages.length - 1]!;
    if (chance(rng, 0.3)) {
      const [, email] = pick(rng, reviewers);
      out.audit.push([email, "conversation.view", "conversation", String(c.id), dbJson({ ip: "10.0.0.7" }), dbDate(newest.receivedAt)]);
    }
  }
  return out;
}

/** A unit-length vector as the embedding job stores it (JSON of doubles). */
function embedding(rng: Rng): number[] {
  const v = Array.from({ length: EMBEDDING_DIM }, () => rng() * 2 - 1);
  const norm = Math.hypot(...v.slice(0, 512)) * Math.sqrt(EMBEDDING_DIM / 512);
  return v.map((x) => x / norm);
}

/** Writes the followers of `stored` conversations; returns the pending drafts' ids by conversation. */
export async function writeFollowers(store: Store, f: Followers, rawBlobId: number, config: Config): Promise<Map<number, number>> {
  await insertRows(store, "triages", TRIAGE_COLUMNS, f.triages, false);
  const draftIds = await insertRows(
    store,
    "drafts",
    DRAFT_COLUMNS,
    f.drafts.map((d) => d.row),
  );
  const pending = new Map<number, number>();
  const outbox: SqlValue[][] = [];
  f.drafts.forEach((d, k) => {
    if (d.pendingOf !== null) pending.set(d.pendingOf, draftIds[k]!);
    if (!d.approved) return;
    const { c, i, by: approvedBy, at: approvedAt } = d.approved;
    const reply = c.messages[i + 1]!;
    const answered = c.messages[i]!;
    const refs = c.messages
      .slice(0, i + 1)
      .map((m) => m.messageId)
      .slice(-config.threading.maxReferences);
    outbox.push([
      c.id,
      draftIds[k]!,
      c.mailbox + 1,
      c.messageIds[i]!,
      "sent",
      reply.messageId,
      MAILBOXES[c.mailbox]!.address,
      dbJson([{ address: c.customer.address, name: c.customer.name }]),
      dbJson([]),
      reply.subject,
      answered.messageId,
      dbJson(refs),
      reply.newText,
      sha256(reply.newText),
      approvedBy,
      approvedAt,
      1,
      null,
      null,
      dbDate(reply.date),
      rawBlobId,
      null,
      null,
      null,
      approvedAt,
      dbDate(reply.date),
    ]);
    f.events.push(["draft.approved", c.id, dbJson({ draftId: draftIds[k]!, by: approvedBy, edited: false }), approvedAt]);
    f.audit.push([
      approvedBy,
      "draft.approve",
      "draft",
      String(draftIds[k]!),
      dbJson({ conversationId: c.id, messageId: reply.messageId, bodyHash: sha256(reply.newText), edited: false, origin: "model" }),
      approvedAt,
    ]);
  });
  await insertRows(store, "outbox", OUTBOX_COLUMNS, outbox, false);
  await insertRows(
    store,
    "events",
    EVENT_COLUMNS,
    f.events.sort((a, b) => String(a[3]).localeCompare(String(b[3]))),
    false,
  );
  await insertRows(
    store,
    "audit_log",
    AUDIT_COLUMNS,
    f.audit.sort((a, b) => String(a[5]).localeCompare(String(b[5]))),
    false,
  );
  return pending;
}
