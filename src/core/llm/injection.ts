/**
 * Does a customer's mail read like instructions to an AI model? The answer only raises a flag for the
 * reviewer; it never blocks mail, so the patterns aim at phrasings that attacks use and ordinary support
 * mail does not: "ignore previous instructions" is flagged, "please ignore my previous email" and
 * "ignore my previous instructions, ship to my office" are not (a customer revising their own request);
 * "act as" needs an AI-ish role ("act as a linux terminal"), so "act as soon as possible" and "act as a
 * guarantor" pass; "System:" at the start of a line needs instruction-like words after it, because
 * "System: Windows 11" is a bug report. Matching happens after hidden characters are stripped,
 * compatibility forms folded (fullwidth letters), look-alike Cyrillic/Greek letters mapped to Latin,
 * accents removed and whitespace collapsed, so "ig\u200bnore", "ｉｇｎｏｒｅ" and "іgnore" read as "ignore".
 */
import { stripHiddenText } from "../visibleText/hiddenText.js";

/** What looksLikeInstructions found. */
export interface InstructionVerdict {
  suspicious: boolean;
  /** The matching passages, normalized (lower case, accents removed), at most 20, no duplicates. */
  matches: string[];
}

// Letters that render like Latin ones; attackers swap them in to dodge filters.
const CONFUSABLES: Record<string, string> = {
  а: "a", е: "e", о: "o", р: "p", с: "c", у: "y", х: "x", і: "i", ј: "j", ѕ: "s", ԁ: "d", һ: "h", ԛ: "q", ԝ: "w",
  ο: "o", α: "a", ι: "i", ν: "v", κ: "k", ρ: "p", τ: "t", ɡ: "g", ı: "i",
};
const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join("")}]`, "gu");

const VERBS = String.raw`(?:ignore|disregard|forget|override|overrule|bypass|skip|drop|abandon|discard|neglect|dismiss|erase|delete|clear|set\s+aside)`;
// No "my"/"our": a customer may well ask us to ignore their own earlier instructions.
const DETERMINERS = String.raw`(?:(?:all|any|each|every|the|your|these|those|such|of)\s+)*`;
const PRIOR = String.raw`(?:previous|prior|above|earlier|preceding|foregoing|former|original|initial|system|existing|old|past|given|provided|current)`;
const RULES = String.raw`(?:instructions?|prompts?|rules|directives?|directions|guidelines|commands?|programming|guidance|constraints|restrictions|policies|context)`;
const PERSONA = String.raw`(?:ai|a\.i\.|assistant|bot|chatbot|model|language\s+model|llm|gpt|chatgpt|dan|persona|character|hacker|terminal|shell|console|interpreter|jailbroken|unrestricted|unfiltered|uncensored|evil)`;
// Alternatives in these repeated groups must not overlap (no "email" next to "e\s?mail"): two ways to
// match one word inside "(...\s+)*" make a failing match backtrack exponentially.
const SECRET_ADJ = String.raw`(?:admin|administrator|account|user|root|database|db|customers?'?|system|server|master|internal|stored|saved|current|other|aws|openai|github|stripe|smtp|imap|e\s?mail|mailbox|wifi|bank|company|api)`;
const SECRETS = String.raw`(?:passwords?|passcodes?|passwd|credentials?|api\s?keys?|secret\s+keys?|private\s+keys?|ssh\s+keys?|access\s+keys?|access\s+tokens?|auth(?:entication)?\s+tokens?|bearer\s+tokens?|session\s+(?:ids?|cookies?|tokens?)|secrets?|login\s+(?:details|data)|logins?)`;

const PATTERNS: RegExp[] = [
  // English: "ignore (all) previous instructions", "disregard your instructions", "forget everything above".
  new RegExp(String.raw`\b${VERBS}\s+${DETERMINERS}(?:${PRIOR}\s+)+${RULES}\b(?!\s+(?:i|we)\b)`, "gmu"),
  new RegExp(String.raw`\b${VERBS}\s+(?:all|any|every|your)\s+(?:of\s+)?(?:your\s+|the\s+)?${RULES}\b(?!\s+(?:i|we)\b)`, "gmu"),
  new RegExp(String.raw`\b${VERBS}\s+(?:everything|anything|all)\s+(?:(?:written|said|stated|you\s+were\s+told)\s+)?(?:above|before\s+this|so\s+far|until\s+now)\b`, "gmu"),
  /\bforget\s+(?:everything|all)\s+you\s+(?:know|were\s+told|have\s+been\s+told|learned)\b/gmu,
  new RegExp(String.raw`\b(?:do\s+not|don't|stop)\s+follow(?:ing)?\s+${DETERMINERS}(?:${PRIOR}\s+)+${RULES}\b`, "gmu"),
  // Role changes.
  new RegExp(String.raw`\byou\s+are\s+now\s+(?:(?:an?|the|my|our)\s+)?(?:[\w-]+\s+){0,2}?${PERSONA}\b`, "gmu"),
  /\byou\s+are\s+now\s+in\s+(?:[\w-]+\s+){0,2}?mode\b/gmu,
  /\byou(?:'re|\s+are)\s+no\s+longer\s+(?:an?\s+|the\s+)?(?:ai|assistant|bound|restricted|limited|required)\b/gmu,
  new RegExp(String.raw`\b(?:act|behave|respond|answer|reply|function|operate)\s+as\s+(?:if\s+you\s+(?:were|are)\s+|though\s+you\s+(?:were|are)\s+)?(?:an?|the|my|our)\s+(?:[\w-]+\s+){0,2}?${PERSONA}\b`, "gmu"),
  // "pretend to be" as an order (sentence start, "please", "I want you to"), not "you pretend to be helpful".
  /(?:^|[.!?:;,]\s*|\b(?:please|now|and|then|to|must|will|should|shall|can|could)\s+)pretend\s+(?:to\s+be|you\s+are|you're|that\s+you\s+are|that\s+you're)\b/gmu,
  /\b(?:role\s*play|role\s+play)\s+as\b/gmu,
  new RegExp(String.raw`\bplay\s+the\s+role\s+of\s+(?:an?|the)\s+(?:[\w-]+\s+){0,2}?${PERSONA}\b`, "gmu"),
  // Talking about or to the model.
  /\bsystem\s?prompts?\b/gmu,
  /\b(?:new|updated|real|actual|true|secret|hidden|override)\s+(?:system\s+)?(?:instructions?|prompt|directives?)\s*:/gmu,
  /\bas\s+an?\s+(?:ai|artificial\s+intelligence|(?:large\s+)?language\s+model|llm|ai\s+(?:language\s+)?model|ai\s+assistant|chatbot)\b/gmu,
  /\b(?:dear|hey|hi|hello|attention|note\s+to|message\s+(?:to|for)|instructions\s+for)\s+(?:the\s+)?(?:ai|a\.i\.|ai\s+assistant|assistant|chatbot|llm|gpt|chatgpt|claude|gemini|copilot|language\s+model|ai\s+model|ai\s+system|email\s+assistant)\b(?!\s+manager)/gmu,
  /\b(?:reveal|print|show|repeat|output|display|leak|tell|give|share|dump|write\s+out|recite|copy|spell\s+out)\s+(?:me\s+|us\s+)?(?:all\s+|back\s+)?(?:of\s+)?(?:your\s+(?:(?:full|entire|complete|exact|original|initial|hidden|secret|system|internal|developer|first)\s+)*(?:prompt|instructions|system\s+message|pre\s?prompt|initial\s+message)|the\s+(?:(?:full|entire|complete|exact|original|initial|hidden|secret|system|internal|developer|first)\s+)+(?:prompt|instructions|message|pre\s?prompt))\b/gmu,
  /\b(?:repeat|print|output|reveal)\s+(?:everything|all|the\s+(?:text|words|lines|content))\s+(?:above|before\s+this)\b/gmu,
  // Exfiltration: "send the password to ...", not "send me my password reset link".
  new RegExp(String.raw`\b(?:send|email|e\s?mail|forward|post|mail|transmit|give|share|leak|exfiltrate|upload|paste|disclose|reveal)\s+(?:me\s+|us\s+|them\s+)?(?:(?:the|your|all|any|its|their|our|his|her|an?)\s+)?(?:${SECRET_ADJ}\s+)*${SECRETS}\s+to\b`, "gmu"),
  // Role markers at the start of a line.
  /^[ \t]*(?:#{1,3}[ \t]*)?[[<]?(?:assistant|developer)[\]>]?[ \t]*:/gmu,
  /^[ \t]*(?:#{1,3}[ \t]*)?[[<]?system[\]>]?[ \t]*:(?=[^\n]*\b(?:you|your|ignore|disregard|forget|respond|reply|answer|always|never|do\s+not|don't|must|override)\b)/gmu,
  /^[ \t]*#{1,3}[ \t]*(?:instruction|instructions|system|response)[ \t]*:/gmu,
  // German, Spanish, French, Italian, Portuguese, Dutch (accents already removed).
  /\b(?:ignorier(?:e|en\s+sie|t)?|vergiss|vergessen\s+sie|missachte|missachten\s+sie|uberschreibe)\s+(?:(?:alle|samtliche|die|deine|ihre|jegliche)\s+)*(?:(?:vorherigen|vorigen|bisherigen|obigen|fruheren|vorangegangenen|vorhergehenden|alten|ursprunglichen)\s+)+(?:anweisungen|instruktionen|befehle|regeln|vorgaben|anordnungen)\b/gmu,
  /\b(?:ignorier(?:e|en\s+sie|t)?|vergiss|vergessen\s+sie|missachte|missachten\s+sie)\s+(?:alle|samtliche|jegliche|deine)\s+(?:anweisungen|instruktionen|befehle|regeln|vorgaben)\b/gmu,
  /\b(?:du\s+bist|sie\s+sind)\s+(?:jetzt|nun|ab\s+sofort)\s+(?:(?:ein|eine|einen|der|die|das)\s+)?(?:[\w-]+\s+){0,2}?(?:ki|assistent|bot|chatbot|modell|dan|uneingeschrankt)\b/gmu,
  /\b(?:ignora|ignore|ignorar|ignoren|olvida|olvide|olviden|olvidar|descarta|descarte|omite|omita|desobedece)\s+(?:(?:todas|todos|todo|las|los|tus|sus|de)\s+)*(?:(?:instrucciones|indicaciones|ordenes|reglas|directrices)\s+(?:anteriores|previas|precedentes|de\s+arriba|originales|del\s+sistema)|(?:anteriores|previas)\s+(?:instrucciones|indicaciones|ordenes|reglas))\b/gmu,
  /\b(?:ignore|ignorez|ignorer|oublie|oubliez|oublier|neglige|negligez)\s+(?:(?:toutes|tous|les|tes|vos|des)\s+)*(?:instructions|consignes|regles|directives|ordres|indications)\s+(?:precedentes|anterieures|ci\s+dessus|d'avant|initiales|du\s+systeme)\b/gmu,
  /\b(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi)\s+(?:(?:tutte|tutti|le|gli|i|tue|sue)\s+)*(?:istruzioni|indicazioni|regole|direttive)\s+(?:precedenti|di\s+prima|sopra|iniziali)\b/gmu,
  /\b(?:ignore|ignora|ignorar|esqueca|esquece|esquecer|desconsidere|desconsidera)\s+(?:(?:todas|todos|as|os|suas|tuas)\s+)*(?:instrucoes|orientacoes|regras|diretrizes)\s+(?:anteriores|previas|acima|iniciais)\b/gmu,
  /\b(?:negeer|vergeet|negeren)\s+(?:(?:alle|al|de|je|uw)\s+)*(?:(?:vorige|voorgaande|eerdere|bovenstaande|oorspronkelijke)\s+)+(?:instructies|opdrachten|regels|aanwijzingen)\b/gmu,
];

// Chat-template control tokens, matched before punctuation is folded away ("<|im_start|>" has "_" and "|").
const TEMPLATE_TOKENS = /<\|[a-z0-9_ ]{1,30}\|>|\[\/?(?:inst|sys|system_prompt)\]|<<\/?sys>>|<\/?s>|<\/?(?:start_of_turn|end_of_turn)>/gu;

/** Flags text that reads like instructions to an AI model (prompt injection), with the passages found. */
export function looksLikeInstructions(text: string): InstructionVerdict {
  const folded = stripHiddenText(text)
    .normalize("NFKC")
    .toLowerCase()
    .replace(CONFUSABLE, (c) => CONFUSABLES[c]!)
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .replace(/[’‘`´]/gu, "'");
  const words = folded
    .replace(/[*_~"“”„«»|\-–—]+/gu, " ")
    .replace(/[^\S\n]+/gu, " ")
    .replace(/ ?\n[\s]*/gu, "\n");
  const found = new Set<string>();
  for (const m of folded.matchAll(TEMPLATE_TOKENS)) found.add(m[0]);
  for (const pattern of PATTERNS) {
    for (const m of words.matchAll(pattern)) found.add(m[0].replace(/\s+/gu, " ").trim());
  }
  const matches = [...found].filter(Boolean).slice(0, 20);
  return { suspicious: matches.length > 0, matches };
}
