/**
 * The error codes people see: in quarantine reasons, CLI messages and logs. One catalogue, one meaning
 * per code (the idea of nodemailer's lib/errors.js): tools, runbooks and tests match on the code, never
 * on message text, so a code keeps its meaning once released.
 */
export const ERROR_CODES = {
  ECONFIG: "the configuration is invalid (every bad value is listed with its path)",
  ETOOBIG: "a message is larger than ingest.maxMessageBytes",
  EPARSE: "the bytes are not a message that can be parsed",
  ESTORE: "a message could not be stored (a fault of what was written, not a passing database conflict)",
  ENOTMBOX: "a file given to import is not an mbox file",
  EOAUTH2: "an OAuth2 access token could not be obtained",
  ELEASE: "this process lost a mailbox lease; another process polls the mailbox now",
  EMODEL: "the model file could not be loaded",
  ETIMEOUT: "a model call ran past llm.timeoutSeconds and was aborted",
  EAPPROVAL:
    "an approval, rejection, regeneration or hand-written reply was refused: the draft is not pending, not the latest of its conversation, superseded, of another conversation or mailbox, the reviewer is unknown, or the reply has nobody it may go to",
  EOUTBOX: "an outbox entry cannot take that action in its state (only an uncertain entry can be resolved)",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a catalogued code. Subclasses name the situation; the code is what people look up. */
export class DraftgateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The catalogued code of an error, if it has one. */
export function errorCodeOf(err: unknown): ErrorCode | null {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : null;
}
