/**
 * Where an IMAP message came from, as stored in a message's (or quarantine entry's) sourceRef:
 * `imap:<mailbox>/<folder>;UIDVALIDITY=<n>;UID=<n>`. Written by ingest; read by quarantine retry (fetch
 * it again) and by outbound (set \Answered on the message a reply answers).
 */
export interface ImapSource {
  mailbox: string;
  folder: string;
  uidValidity: string;
  uid: number;
}

export const imapSourceRef = (s: ImapSource): string => `imap:${s.mailbox}/${s.folder};UIDVALIDITY=${s.uidValidity};UID=${s.uid}`;

/** The inverse of imapSourceRef; null for a reference of another kind. */
export function parseImapSourceRef(ref: string | null): ImapSource | null {
  // Mailbox names have no "/" (config schema); the folder is everything up to the last ";UIDVALIDITY=".
  const m = /^imap:([^/]+)\/(.+);UIDVALIDITY=(\d+);UID=(\d+)$/.exec(ref ?? "");
  return m ? { mailbox: m[1]!, folder: m[2]!, uidValidity: m[3]!, uid: Number(m[4]) } : null;
}
