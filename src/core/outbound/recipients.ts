/**
 * Who a reply goes to. Recipients are decided here, by code, from the message being answered and the
 * mailbox's policy: never from model output (DESIGN.md promise 6). When nobody valid is left the
 * answer is a refusal with a reason a person can read, not an exception: "this reply cannot be sent
 * automatically" is an ordinary outcome for a support inbox, and the caller shows it.
 *
 * Loop safety (DESIGN.md "Loop rules"): a reply never goes to a daemon, a no-reply or list-robot
 * address, or back to ourselves, and never answers a message already classified as automated.
 */
import { isAutomatedAddress } from "../automation.js";
import type { Address } from "../message.js";

/** Per-mailbox Cc policy: `none` answers only the customer; `reply-all` copies the other people on the message answered. */
export type CcPolicy = "none" | "reply-all";

/** Why an address was left out, or why the whole reply was refused. */
export type RecipientRefusalReason =
  /** The message answered was classified automated (bounce, auto-reply, list mail, our own mail). */
  | "automated-message"
  /** The message has no usable sender: no From, an empty address (the null sender `<>`), no Reply-To. */
  | "no-sender"
  /** A daemon, postmaster, no-reply or list-robot address (automation.ts isAutomatedAddress). */
  | "automated-address"
  /** One of our own addresses: the mailbox or an alias, sub-addresses (`+tag`) included. */
  | "own-address"
  /** Not something we can put in a header: no `@`, whitespace, brackets, control characters. */
  | "invalid-address";

/** The parts of the message answered that decide the recipients. */
export interface AnsweredMessage {
  from: Address | null;
  replyTo: readonly Address[];
  to: readonly Address[];
  cc: readonly Address[];
  /** classifyAutomated's verdict, as stored with the message. */
  automated: boolean;
}

/** The mailbox the reply is sent from. */
export interface ReplyingMailbox {
  address: string;
  /** Other addresses that deliver to this mailbox; a reply-all must not copy them either. */
  aliases?: readonly string[];
  ccPolicy: CcPolicy;
}

/** An address left out of the reply, and why. */
export interface DroppedRecipient {
  address: string;
  reason: Exclude<RecipientRefusalReason, "automated-message" | "no-sender">;
}

export type RecipientDecision =
  | {
      ok: true;
      /** Never empty. */
      to: Address[];
      /** Empty under `none`. Never repeats an address of `to`, never our own. */
      cc: Address[];
      /** Addresses considered and left out, for the reviewer's page and the audit log. */
      dropped: DroppedRecipient[];
    }
  | { ok: false; reason: RecipientRefusalReason; detail: string };

// Conservative: one '@', a non-empty local part and domain, nothing a header parser could split on.
// Quoted local parts ("john doe"@x) are legal but rare; refusing one costs a hand-written reply.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const ADDRESS = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+@[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f.][^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]*$/u;
const MAX_ADDRESS_LENGTH = 254; // RFC 5321 §4.5.3.1.3 (path minus the brackets)

/** The form addresses are compared in: trimmed, lower-cased. */
export function addressKey(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * The key our own addresses are compared by: also without a `+tag`. support+billing@ delivers to
 * support@, so copying it would mail ourselves.
 */
function ownKey(address: string): string {
  const key = addressKey(address);
  const at = key.lastIndexOf("@");
  if (at < 0) return key;
  return `${key.slice(0, at).split("+")[0]}${key.slice(at)}`;
}

/** Whether an address is syntactically fit for an outgoing header (see ADDRESS). */
export function isSendableAddress(address: string): boolean {
  const a = address.trim();
  return a.length <= MAX_ADDRESS_LENGTH && ADDRESS.test(a) && !a.endsWith(".");
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must go
const CONTROL = /[\u0000-\u001f\u007f]+/gu;

/**
 * A display name fit for our headers, on one line. Names come from untrusted mail and go back into
 * our headers: a line break would let one inject a header, so control characters become spaces
 * (the mailer encodes the rest).
 */
export function cleanDisplayName(name: string | null | undefined): string {
  return (name ?? "").replace(CONTROL, " ").replace(/\s+/gu, " ").trim();
}

function verdict(address: string, own: ReadonlySet<string>): DroppedRecipient["reason"] | null {
  if (!isSendableAddress(address)) return "invalid-address";
  if (own.has(ownKey(address))) return "own-address";
  if (isAutomatedAddress(address)) return "automated-address";
  return null;
}

/** Who a reply to `answered` from `mailbox` goes to, or why it may not go to anyone. */
export function resolveRecipients(answered: AnsweredMessage, mailbox: ReplyingMailbox): RecipientDecision {
  // Checked first: an auto-reply from a human's address is still a robot talking.
  if (answered.automated) {
    return {
      ok: false,
      reason: "automated-message",
      detail: "the message answered is automated (bounce, auto-reply, list or our own mail)",
    };
  }
  const own = new Set([mailbox.address, ...(mailbox.aliases ?? [])].map(ownKey).filter((k) => k !== ""));
  const dropped: DroppedRecipient[] = [];
  const seen = new Set<string>();

  const take = (list: readonly Address[]): Address[] => {
    const kept: Address[] = [];
    for (const a of list) {
      const address = (a?.address ?? "").trim();
      if (address === "") continue; // a group or a name without an address: nothing to drop
      const key = addressKey(address);
      if (seen.has(key)) continue;
      seen.add(key);
      const reason = verdict(address, own);
      if (reason === null) kept.push({ address, name: cleanDisplayName(a.name) });
      else dropped.push({ address, reason });
    }
    return kept;
  };

  // Reply-To wins over From (RFC 5322 §3.6.2): the sender said where answers go. Our own addresses
  // in it are ignored, not obeyed: a customer who puts support@ in Reply-To did not mean "answer
  // yourselves", so From decides then. A no-reply Reply-To is obeyed: the sender asked for no answer.
  const replyTo = answered.replyTo.filter((a) => (a?.address ?? "").trim() !== "" && !own.has(ownKey(a.address)));
  const targets = replyTo.length > 0 ? replyTo : answered.from && answered.from.address.trim() !== "" ? [answered.from] : [];
  if (targets.length === 0) {
    // Only our own addresses in Reply-To and no From is still "nobody to answer".
    const ownOnly = answered.replyTo.some((a) => (a?.address ?? "").trim() !== "");
    return ownOnly
      ? { ok: false, reason: "own-address", detail: "Reply-To names only our own addresses and the message has no From address" }
      : { ok: false, reason: "no-sender", detail: "the message has no sender address (null sender, no From, no Reply-To)" };
  }
  const to = take(targets);
  if (to.length === 0) {
    const first = dropped[0]!;
    return { ok: false, reason: first.reason, detail: `no valid customer address: ${first.address} is ${describe(first.reason)}` };
  }

  const cc = mailbox.ccPolicy === "reply-all" ? take([...answered.to, ...answered.cc]) : [];
  return { ok: true, to, cc, dropped };
}

function describe(reason: DroppedRecipient["reason"]): string {
  switch (reason) {
    case "automated-address":
      return "an automated address (daemon, postmaster, no-reply or list robot)";
    case "own-address":
      return "one of our own addresses";
    case "invalid-address":
      return "not a valid address";
  }
}
