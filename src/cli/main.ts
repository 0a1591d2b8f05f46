import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { packageRoot } from "../config/paths.js";
import { backfillCommand } from "./commands/backfill.js";
import { doctorCommand } from "./commands/doctor.js";
import { draftsApproveCommand, draftsListCommand, draftsRegenerateCommand, draftsRejectCommand } from "./commands/drafts.js";
import { importCommand } from "./commands/import.js";
import { migrateCommand } from "./commands/migrate.js";
import { modelInfoCommand, modelMakeTestCommand, modelPullCommand } from "./commands/model.js";
import { outboxListCommand, outboxResolveCommand } from "./commands/outbox.js";
import { quarantineListCommand, quarantineRetryCommand } from "./commands/quarantine.js";
import { replyCommand } from "./commands/reply.js";
import { ROLES, startCommand } from "./commands/start.js";
import { threadsCommand } from "./commands/threads.js";
import { teamAddCommand, teamListCommand } from "./commands/team.js";
import { tokenAddCommand, tokenListCommand, tokenRevokeCommand } from "./commands/token.js";
import { userAddCommand } from "./commands/user.js";

const { version } = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };

const program = new Command()
  .name("draftgate")
  .description("Self-hosted gateway for shared support inboxes: ingest, thread, triage, draft, review, send.")
  .version(version)
  .showHelpAfterError()
  // Options belong to the command they follow (needed where a command and its subcommand share a
  // name, as `drafts --mailbox` and `drafts approve --mailbox` do); the program itself has only -V and -h.
  .enablePositionalOptions();

program
  .command("start")
  .description("run the gateway (migrates the database first); every role in one process by default")
  .option("--roles <list>", `comma-separated roles: ${ROLES.join(", ")}`, ROLES.join(","))
  .action(startCommand);

program.command("migrate").description("bring the database schema up to date").action(migrateCommand);

program
  .command("import")
  .description("import .eml files, mbox files and Maildir folders (or folders of them) into a mailbox")
  .requiredOption("--mailbox <name>", "mailbox to import into (created if it is not configured)")
  .option("--json", "end with one JSON line: { files, messages, stored, duplicate, quarantined, automated, errors }")
  .argument("<paths...>", "files or folders")
  .action((paths: string[], opts: { mailbox: string; json?: boolean }) => importCommand(paths, opts));

program
  .command("backfill")
  .description("fetch older mail from a mailbox's IMAP folders (what the first sync skipped); skips what is stored")
  .requiredOption("--mailbox <name>", "configured mailbox")
  .requiredOption("--since <date>", "fetch messages from this date on (YYYY-MM-DD)")
  .option("--folder <name...>", "only these folders (default: the mailbox's folders)")
  .option("--json", "print a JSON summary")
  .action(backfillCommand);

program
  .command("threads")
  .description("list conversations with their messages")
  .option("--json", "print a JSON array of conversations")
  .option("--mailbox <name>", "only this mailbox")
  .action(threadsCommand);

const quarantine = program.command("quarantine").description("messages that could not be stored, kept with their raw bytes");
quarantine
  .command("list")
  .description("list quarantined messages with the reason (open ones unless --all)")
  .option("--all", "include retried and discarded entries")
  .option("--json", "print JSON")
  .action(quarantineListCommand);
quarantine
  .command("retry")
  .description("run quarantined messages through intake again (e.g. after raising ingest.maxMessageBytes)")
  .argument("<ids...>", "quarantine ids")
  .option("--json", "print JSON")
  .action(quarantineRetryCommand);

const drafts = program
  .command("drafts")
  .description("list drafts waiting for review; drafts approve ID --as EMAIL (queues the reply), drafts reject|regenerate ID")
  // Options after a subcommand are the subcommand's: `drafts approve 5 --mailbox billing --json` must not
  // hand --mailbox (a guard) or --json to the listing.
  .enablePositionalOptions()
  .option("--json", "print a JSON array of { id, conversationId, status, origin, body, flags, createdAt, mailbox, subject }")
  .option("--mailbox <name>", "only this mailbox")
  .action(draftsListCommand);
drafts
  .command("approve")
  .description("approve a pending draft (optionally with an edited text) and queue the reply for sending")
  .argument("<id>", "draft id")
  .requiredOption("--as <email>", "the approving reviewer (a user: draftgate user add)")
  .option("--body-file <file>", "send this text instead of the draft's (UTF-8; - reads standard input)")
  .option("--conversation <id>", "refuse unless the draft belongs to this conversation")
  .option("--mailbox <name>", "refuse unless the draft belongs to this mailbox")
  .option("--json", "print the outbox entry created as JSON")
  .action(draftsApproveCommand);
drafts
  .command("reject")
  .description("reject a pending draft; nothing is sent")
  .argument("<id>", "draft id")
  .requiredOption("--reason <text>", "why (kept with the draft and in the audit log)")
  .option("--as <email>", "the reviewer (a user); the operator at the shell by default")
  .option("--json", "print JSON")
  .action(draftsRejectCommand);
drafts
  .command("regenerate")
  .description("supersede a pending draft and have the model write a new one, following an instruction")
  .argument("<id>", "draft id")
  .option("--instruction <text>", "what the new draft should do differently")
  .option("--as <email>", "the reviewer (a user); the operator at the shell by default")
  .option("--json", "print JSON")
  .action(draftsRegenerateCommand);

program
  .command("reply")
  .description("write a reply by hand to a conversation's newest customer message and queue it for sending")
  .argument("<conversation>", "conversation id")
  .requiredOption("--body-file <file>", "the reply text (UTF-8; - reads standard input)")
  .requiredOption("--as <email>", "the writing reviewer (a user: draftgate user add)")
  .option("--mailbox <name>", "refuse unless the conversation belongs to this mailbox")
  .option("--json", "print the outbox entry created as JSON")
  .action(replyCommand);

const outbox = program
  .command("outbox")
  .description("approved replies and their send state; outbox resolve ID --sent|--resend settles an uncertain one")
  .enablePositionalOptions()
  .option("--json", "print a JSON array of { id, conversationId, draftId, state, messageId, to, subject, attempts, lastError, approvedBy, … }")
  .option("--state <state...>", "only entries in these states")
  .action(outboxListCommand);
outbox
  .command("resolve")
  .description("settle an uncertain entry: --sent (the customer got it) or --resend (same Message-ID, queued again)")
  .argument("<id>", "outbox id")
  .option("--sent", "it went out: mark it sent")
  .option("--resend", "it did not go out: queue it again with the same Message-ID")
  .option("--as <email>", "the resolving admin (a user); the operator at the shell by default")
  .option("--json", "print JSON")
  .action(outboxResolveCommand);

const model = program.command("model").description("the local LLM (llama.cpp GGUF models)");
model
  .command("pull")
  .description("download the configured model (or URI: hf:user/repo:quant or https URL) with a progress bar; resumes")
  .argument("[uri]")
  .action(modelPullCommand);
model.command("info").description("path, size, architecture, trained context, GPU and layers offloaded").option("--json", "print JSON").action(modelInfoCommand);
model
  .command("make-test")
  .description("write a tiny random-weight GGUF for tests and offline trials (its output is noise)")
  .argument("<path>")
  .action(modelMakeTestCommand);

const user = program.command("user").description("manage reviewer accounts");
user
  .command("add")
  .description("add a user and print a one-time password")
  .argument("<email>")
  .addOption(new Option("--role <role>", "admin or reviewer").choices(["admin", "reviewer"]).default("reviewer"))
  .action(userAddCommand);

const collect = (v: string, all: string[] = []) => [...all, v];
const team = program.command("team").description("teams: which reviewers see which mailboxes (admins see all)");
team
  .command("add")
  .description("create a team (or add to one) with members and mailboxes")
  .argument("<name>")
  .option("--member <email>", "a user to add (repeatable)", collect)
  .option("--mailbox <name>", "a mailbox the team works on (repeatable)", collect)
  .action(teamAddCommand);
team.command("list").description("teams, members and mailboxes").option("--json", "print as JSON").action(teamListCommand);

const token = program.command("token").description("API tokens for scripts on /api (Authorization: Bearer …)");
token
  .command("add")
  .description("create a token acting as a user; prints it once")
  .requiredOption("--user <email>", "the user the token acts as")
  .requiredOption("--name <name>", "what it is for")
  .addOption(new Option("--scope <scope>", "read (GET only) or write").choices(["read", "write"]).default("read"))
  .action(tokenAddCommand);
token.command("list").description("tokens (never their value)").option("--json", "print as JSON").action(tokenListCommand);
token.command("revoke").description("revoke a token").argument("<id>").action(tokenRevokeCommand);

program
  .command("doctor")
  .description("check configuration and database; exits 1 if a check fails")
  .option("--json", "print the checks as JSON")
  .action(doctorCommand);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`draftgate: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
