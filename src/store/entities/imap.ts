import { EntitySchema } from "typeorm";
import { columns, type Dialect } from "../columns.js";

/**
 * Where IMAP sync stands in one folder: the last UID whose message is committed. It advances only in
 * the transaction that stores that message (promise 1: nothing is lost).
 */
export interface ImapCheckpointRow {
  id: number;
  mailboxId: number;
  folder: string;
  uidValidity: string;
  lastUid: number;
  /**
   * The first UID this gateway took in the folder (under this UIDVALIDITY): what lies below it was there
   * before the first sync and was skipped (imap.initialSync), so it is never moved (moveTo). Null: unknown.
   */
  firstUid: number | null;
  highestModseq: string | null;
  updatedAt: Date;
}

/** Who polls a mailbox: one process at a time, taken over when the holder stops renewing. */
export interface MailboxLeaseRow {
  mailboxId: number;
  owner: string;
  leaseUntil: Date;
  /** The holder's last health snapshot (connected, idling, last sync, last error, backlog), for other processes. */
  status: Record<string, unknown> | null;
  updatedAt: Date;
}

export function imapEntities(dialect: Dialect) {
  const c = columns(dialect);
  const ImapCheckpoint = new EntitySchema<ImapCheckpointRow>({
    name: "ImapCheckpoint",
    tableName: "imap_checkpoints",
    columns: {
      id: c.id(),
      mailboxId: c.int(),
      folder: c.string(255),
      uidValidity: c.string(20),
      lastUid: c.bigint(),
      firstUid: c.bigint({ nullable: true }),
      highestModseq: c.string(20, { nullable: true }),
      updatedAt: c.date({ updateDate: true }),
    },
    indices: [{ name: "UQ_checkpoint_folder", columns: ["mailboxId", "folder"], unique: true }],
  });
  const MailboxLease = new EntitySchema<MailboxLeaseRow>({
    name: "MailboxLease",
    tableName: "mailbox_leases",
    columns: {
      mailboxId: c.int({ primary: true }),
      owner: c.string(128),
      leaseUntil: c.date(),
      status: c.json({ nullable: true }),
      updatedAt: c.date({ updateDate: true }),
    },
  });
  return [ImapCheckpoint, MailboxLease];
}
