import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { packageRoot } from "../config/paths.js";
import { backfillCommand } from "./commands/backfill.js";
import { doctorCommand } from "./commands/doctor.js";
import { importCommand } from "./commands/import.js";
import { migrateCommand } from "./commands/migrate.js";
import { modelInfoCommand, modelMakeTestCommand, modelPullCommand } from "./commands/model.js";
import { quarantineListCommand, quarantineRetryCommand } from "./commands/quarantine.js";
import { ROLES, startCommand } from "./commands/start.js";
import { threadsCommand } from "./commands/threads.js";
import { userAddCommand } from "./commands/user.js";

const { version } = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };

const program = new Command()
  .name("draftgate")
  .description("Self-hosted gateway for shared support inboxes: ingest, thread, triage, draft, review, send.")
  .version(version)
  .showHelpAfterError();

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
