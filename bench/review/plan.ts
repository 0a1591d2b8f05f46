/**
 * What the review benchmark's conversations are made of before they have ids: mailboxes, customers,
 * messages with dates (the open ones end with the customer, waiting for an answer), priority and
 * assignee, and the conversation row's state that triage and replies leave on it.
 */
import type { Config } from "../../src/config/schema.js";
import { slaDueAt } from "../../src/core/llm/sla.js";
import type { Priority } from "../../src/store/entities/mail.js";
import { dbDate } from "../../src/store/sql.js";
import {
  CATEGORIES,
  chance,
  customer,
  customerText,
  followUpText,
  htmlOf,
  int,
  pick,
  quoted,
  replyText,
  subject,
  weighted,
  type Category,
  type Customer,
  type Rng,
} from "./text.js";

export const MAILBOXES = [
  { name: "support", address: "support@example.com" },
  { name: "billing", address: "billing@example.com" },
  { name: "sales", address: "sales@example.com" },
] as const;
const MAILBOX_WEIGHTS = { support: 60, billing: 25, sales: 15 };

export const BIG_MESSAGES = 200;
export const PRIORITY_WEIGHTS: Record<Priority, number> = { urgent: 5, high: 20, normal: 55, low: 20 };
export const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type Kind = "open" | "pending" | "closed";

export interface PlannedMessage {
  direction: "inbound" | "outbound";
  messageId: string;
  subject: string;
  text: string;
  newText: string;
  html: string | null;
  date: Date;
  receivedAt: Date;
}

export interface PlannedConversation {
  kind: Kind;
  mailbox: number;
  customer: Customer;
  category: Category;
  priority: Priority;
  subject: string;
  assignee: number | null;
  messages: PlannedMessage[];
}

/** After insertion: the ids the database gave. */
export interface StoredConversation extends PlannedConversation {
  id: number;
  messageIds: number[];
  viaIntake: boolean;
}

/** What triage and replies left on the conversation row: status, the latest triage's priority and SLA due time, assignee. */
export function conversationState(c: PlannedConversation, config: Config) {
  const lastInbound = c.messages.findLast((m) => m.direction === "inbound")!;
  const newest = c.messages[c.messages.length - 1]!;
  return {
    status: c.kind,
    priority: c.priority,
    slaDueAt: dbDate(slaDueAt(c.priority, lastInbound.receivedAt, config.sla)),
    assigneeId: c.assignee,
    lastMessageAt: dbDate(newest.date),
  };
}

/** One conversation of `kind`, the `n`-th (which makes its customer address and Message-IDs unique). */
export function plannedConversation(
  rng: Rng,
  n: number,
  kind: Kind,
  now: number,
  users: number[],
  benchUserId: number,
): PlannedConversation {
  const c = customer(rng, n);
  const mailboxName = weighted(rng, MAILBOX_WEIGHTS);
  const mailbox = MAILBOXES.findIndex((m) => m.name === mailboxName);
  const category: Category =
    MAILBOXES[mailbox]!.name === "billing" ? "billing" : MAILBOXES[mailbox]!.name === "sales" ? "sales" : pick(rng, CATEGORIES);
  const order = int(rng, 100_000, 999_999);
  const subj = subject(rng, category, order);
  // Messages: open ones end with the customer (they wait for us), pending and closed ones with our reply.
  const turns = weighted(rng, { one: 70, three: 20, five: 10 });
  let count = turns === "one" ? 1 : turns === "three" ? 3 : 5;
  if (kind !== "open") count += 1;
  // Age of the newest message: most of the backlog is recent, some waited for days; closed ones are older.
  const newestAge = kind === "closed" ? int(rng, 2, 60) * DAY : Math.min(14 * DAY, -Math.log(1 - rng()) * 1.5 * DAY);
  let at = now - newestAge;
  const dates: number[] = [];
  for (let i = 0; i < count; i++) {
    dates.unshift(at);
    at -= int(rng, 1, 30) * HOUR;
  }
  const address = MAILBOXES[mailbox]!.address;
  const messages: PlannedMessage[] = [];
  for (let i = 0; i < count; i++) {
    const inbound = i % 2 === 0;
    const newText = inbound ? (i === 0 ? customerText(rng, c, category, order) : followUpText(rng, c, category, order)) : replyText(rng, c);
    const prev = messages[i - 1];
    const text = prev ? `${newText}\n\n${quoted(prev.newText, inbound ? address : `${c.name} <${c.address}>`, prev.date)}` : newText;
    const date = new Date(dates[i]!);
    messages.push({
      direction: inbound ? "inbound" : "outbound",
      messageId: inbound
        ? `${order}.${n}.${i}.${(rng() * 1e9).toString(36).slice(0, 6)}@mail.${c.address.split("@")[1]}`
        : `r${n}.${i}@bench.example`,
      subject: i === 0 ? subj : `Re: ${subj}`,
      text,
      newText,
      html: inbound && chance(rng, 0.3) ? htmlOf(text) : null,
      date,
      receivedAt: new Date(date.getTime() + int(rng, 1, 90) * 1000),
    });
  }
  const assigned = kind !== "closed" && chance(rng, 0.25);
  return {
    kind,
    mailbox,
    customer: c,
    category,
    priority: weighted(rng, PRIORITY_WEIGHTS),
    subject: subj,
    assignee: assigned ? (chance(rng, 0.3) ? benchUserId : pick(rng, users)) : null,
    messages,
  };
}

/** The long conversation: a customer and support writing back and forth; the customer wrote the last two. */
export function bigConversation(rng: Rng, now: number, benchUserId: number): PlannedConversation {
  const c: Customer = { name: "Dana Whitfield", first: "Dana", address: "dana.whitfield@acme-corp.com", lang: "en" };
  const subj = "Integration keeps failing: API errors on order export";
  const messages: PlannedMessage[] = [];
  const start = now - BIG_MESSAGES * 7 * HOUR;
  for (let i = 0; i < BIG_MESSAGES; i++) {
    const inbound = i % 2 === 0 || i === BIG_MESSAGES - 1;
    const newText = inbound
      ? i === 0
        ? customerText(rng, c, "technical", 418_223)
        : followUpText(rng, c, "technical", 418_223)
      : replyText(rng, c);
    const prev = messages[i - 1];
    const date = new Date(start + i * 7 * HOUR + int(rng, 0, 3 * HOUR));
    const text = prev
      ? `${newText}\n\n${quoted(prev.newText, inbound ? "support@example.com" : `${c.name} <${c.address}>`, prev.date)}`
      : newText;
    messages.push({
      direction: inbound ? "inbound" : "outbound",
      messageId: inbound ? `dw.${i}.${(rng() * 1e9).toString(36).slice(0, 6)}@mail.acme-corp.com` : `big.${i}@bench.example`,
      subject: i === 0 ? subj : `Re: ${subj}`,
      text,
      newText,
      html: inbound && i % 20 === 4 ? htmlOf(text) : null,
      date,
      receivedAt: new Date(date.getTime() + int(rng, 1, 60) * 1000),
    });
  }
  return { kind: "open", mailbox: 0, customer: c, category: "technical", priority: "high", subject: subj, assignee: benchUserId, messages };
}
