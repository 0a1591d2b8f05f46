/** What one mailbox's poller is doing, for doctor, /readyz and /metrics. */
export interface MailboxHealth {
  mailbox: string;
  /** This process holds the mailbox's lease (another process polls it otherwise). */
  polling: boolean;
  connected: boolean;
  idling: boolean;
  capabilities: string[];
  lastSyncAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  consecutiveFailures: number;
  /** Messages found on the server and not yet committed. */
  backlog: number;
  /** When the next connection attempt is due, while backing off. */
  retryAt: Date | null;
}

export function emptyHealth(mailbox: string): MailboxHealth {
  return {
    mailbox,
    polling: false,
    connected: false,
    idling: false,
    capabilities: [],
    lastSyncAt: null,
    lastError: null,
    lastErrorAt: null,
    consecutiveFailures: 0,
    backlog: 0,
    retryAt: null,
  };
}
