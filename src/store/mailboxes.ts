import type { MailboxRow } from "./entities/mail.js";
import { isUniqueViolation } from "./sql.js";
import type { Store } from "./store.js";

/**
 * The mailbox row for a name, created on first use (configured or import-only). Two processes may
 * create the same new mailbox at once (two imports, an import next to a starting gateway): the one
 * that loses the insert race reads the winner's row.
 */
export async function ensureMailbox(store: Store, name: string, address: string | null): Promise<MailboxRow> {
  try {
    return await upsertMailbox(store, name, address);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return upsertMailbox(store, name, address);
  }
}

function upsertMailbox(store: Store, name: string, address: string | null): Promise<MailboxRow> {
  return store.tx(async (em) => {
    const repo = em.getRepository<MailboxRow>("Mailbox");
    const found = await repo.findOneBy({ name });
    if (found) {
      if (address && found.address !== address) {
        await repo.update({ id: found.id }, { address });
        found.address = address;
      }
      return found;
    }
    await repo.insert({ name, address });
    return repo.findOneByOrFail({ name });
  });
}

export async function findMailbox(store: Store, name: string): Promise<MailboxRow | null> {
  return store.read((em) => em.getRepository<MailboxRow>("Mailbox").findOneBy({ name }));
}
