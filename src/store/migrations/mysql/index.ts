import { ReviewPage1796558480645 } from "./1796558480645-ReviewPage.js";
import { JobQueueIndex1796553751289 } from "./1796553751289-JobQueueIndex.js";
import { OutboxRecipients1796031020995 } from "./1796031020995-OutboxRecipients.js";
import { Outbound1796027268365 } from "./1796027268365-Outbound.js";
import { DraftPending1796026261653 } from "./1796026261653-DraftPending.js";
import { ImapOwnedUids1796025460604 } from "./1796025460604-ImapOwnedUids.js";
import { LlmTriage1795953305617 } from "./1795953305617-LlmTriage.js";
import { ImapSync1795952844888 } from "./1795952844888-ImapSync.js";
import { Initial1795951534648 } from "./1795951534648-Initial.js";
import type { MigrationClass } from "../migrationClass.js";
// Ordered list of mysql migrations; src/store/migrations/generate.ts appends to it.
export const mysqlMigrations: MigrationClass[] = [Initial1795951534648, ImapSync1795952844888, LlmTriage1795953305617, ImapOwnedUids1796025460604, DraftPending1796026261653, Outbound1796027268365, OutboxRecipients1796031020995, JobQueueIndex1796553751289, ReviewPage1796558480645];
