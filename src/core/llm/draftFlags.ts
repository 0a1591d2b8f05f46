/**
 * Safety flags a reviewer sees on a draft. A model that writes a link, address or phone number that
 * appears nowhere in the thread or the knowledge snippets has made it up (or was told to by the mail),
 * and a customer writing to it is the one who pays; so every contact detail in a draft must be traceable
 * to its context. The other flags describe the customer's mail: instruction-like text, hidden links.
 * They look at everything the model was shown, not only the latest message: an injection planted in an
 * earlier message, the subject or a display name steers the model just as well.
 */
import { extractEmails, extractPhoneDigits, extractUrls, urlKey } from "../contactTokens.js";
import { stripHiddenText } from "../visibleText/hiddenText.js";
import { looksLikeInstructions } from "./injection.js";

/** A flag draftFlags can raise. */
export type DraftFlag =
  | "customer-text-has-instructions"
  | "email-not-in-context"
  | "empty-draft"
  | "hidden-links-in-customer-mail"
  | "link-not-in-context"
  | "phone-not-in-context";

/** What a draft is checked against. */
export interface DraftContext {
  /** New text of every message in the thread (the customer's own address belongs here if it may be quoted). */
  threadTexts: string[];
  /** Knowledge snippets and retrieved past replies given to the model. */
  knowledge: string[];
  /** Every untrusted text the prompt held (each message, subject, sender names), checked for instruction-like text. */
  untrustedTexts: string[];
  /** hiddenLinks() of the HTML of every message in the prompt that had HTML. */
  hiddenLinks?: string[];
}

/** Safety flags for a draft reply body, sorted and unique. */
export function draftFlags(draft: string, context: DraftContext): string[] {
  const flags = new Set<DraftFlag>();
  const body = stripHiddenText(draft);
  const sources = [...context.threadTexts, ...context.knowledge].map(stripHiddenText);
  if (!body.trim()) flags.add("empty-draft");

  const contextUrls = sources.flatMap(extractUrls).map(urlKey);
  const knownUrls = new Set(contextUrls);
  const knownHosts = new Set(contextUrls.map(hostOf));
  // A bare host ("example.com") is traceable when some context link is on that host.
  const urlKnown = (key: string) => knownUrls.has(key) || (key === hostOf(key) && knownHosts.has(key));
  if (extractUrls(body).map(urlKey).some((key) => key && !urlKnown(key))) flags.add("link-not-in-context");

  const knownEmails = new Set(sources.flatMap(extractEmails));
  if (extractEmails(body).some((e) => !knownEmails.has(e))) flags.add("email-not-in-context");

  const knownPhones = new Set(sources.flatMap(extractPhoneDigits));
  if (extractPhoneDigits(body).some((d) => !knownPhones.has(d))) flags.add("phone-not-in-context");

  if (context.untrustedTexts.some((t) => looksLikeInstructions(t).suspicious)) flags.add("customer-text-has-instructions");
  if ((context.hiddenLinks ?? []).length > 0) flags.add("hidden-links-in-customer-mail");
  return [...flags].sort();
}

const hostOf = (key: string) => key.split(/[/?#]/u, 1)[0]!;
