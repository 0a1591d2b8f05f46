import type { EntityManager } from "typeorm";
import { DraftgateError } from "../../core/errors.js";
import { mailboxLeaseHeld } from "../../store/mailboxLeases.js";

/**
 * One poller per mailbox across processes: the poller holds the mailbox's lease (store/mailboxLeases.ts,
 * judged by the database's clock) and renews it. The holder also proves it still holds the lease inside
 * each intake transaction (assertLeaseHeld): renewals can stall (a paused VM, an exhausted pool) while
 * the holder keeps working.
 */

/** The holder lost its lease (expired or taken over): its transaction must not commit, and it must stop. */
export class LeaseLostError extends DraftgateError {
  constructor(
    readonly mailboxId: number,
    readonly owner: string,
  ) {
    super(
      "ELEASE",
      `lost the mailbox lease of mailbox ${mailboxId} (${owner}): another process may poll it now; nothing of this transaction is committed`,
    );
  }
}

/**
 * Inside a transaction that writes for the lease holder (intake, checkpoint): proves the lease is still
 * this owner's, else throws LeaseLostError so that the whole transaction rolls back.
 */
export async function assertLeaseHeld(em: EntityManager, mailboxId: number, owner: string): Promise<void> {
  if (!(await mailboxLeaseHeld(em, mailboxId, owner))) throw new LeaseLostError(mailboxId, owner);
}
