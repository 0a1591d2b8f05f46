import { ReviewPage1796558477805 } from "./1796558477805-ReviewPage.js";
import { JobQueueIndex1796553749363 } from "./1796553749363-JobQueueIndex.js";
import { OutboxRecipients1796031019479 } from "./1796031019479-OutboxRecipients.js";
import { Outbound1796027266568 } from "./1796027266568-Outbound.js";
import { DraftPending1796026260279 } from "./1796026260279-DraftPending.js";
import { ImapOwnedUids1796025459535 } from "./1796025459535-ImapOwnedUids.js";
import { LlmTriage1795953304716 } from "./1795953304716-LlmTriage.js";
import { ImapSync1795952843591 } from "./1795952843591-ImapSync.js";
import { Initial1795951533850 } from "./1795951533850-Initial.js";
import type { MigrationClass } from "../migrationClass.js";
// Ordered list of sqlite migrations; src/store/migrations/generate.ts appends to it.
export const sqliteMigrations: MigrationClass[] = [Initial1795951533850, ImapSync1795952843591, LlmTriage1795953304716, ImapOwnedUids1796025459535, DraftPending1796026260279, Outbound1796027266568, OutboxRecipients1796031019479, JobQueueIndex1796553749363, ReviewPage1796558477805];
