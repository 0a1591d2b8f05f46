import type { MigrationInterface, QueryRunner } from "typeorm";

export class LlmTriage1795953304716 implements MigrationInterface {
  name = "LlmTriage1795953304716";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"triages\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"messageRowId\" integer NOT NULL, \"conversationId\" integer NOT NULL, \"priority\" varchar(16) NOT NULL, \"category\" varchar(40) NOT NULL, \"sentiment\" varchar(16) NOT NULL, \"language\" varchar(8) NOT NULL, \"summary\" varchar(255) NOT NULL, \"confidence\" real NOT NULL, \"flags\" text NOT NULL, \"decidedBy\" varchar(16) NOT NULL, \"matchedRules\" text NOT NULL, \"model\" varchar(255), \"tokens\" integer, \"durationMs\" integer, \"slaDueAt\" datetime NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_15b3d02be8349a02e107905cf99\" UNIQUE (\"messageRowId\"))");
    await queryRunner.query("CREATE INDEX \"IDX_triage_conversation\" ON \"triages\" (\"conversationId\") ");
    await queryRunner.query("DROP INDEX \"IDX_conversation_last\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_subject\"");
    await queryRunner.query("CREATE TABLE \"temporary_conversations\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"subject\" varchar(998) NOT NULL, \"subjectKey\" varchar(255) NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"priority\" varchar(16), \"automated\" boolean NOT NULL DEFAULT (0), \"participants\" text NOT NULL, \"lastMessageAt\" datetime NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), \"slaDueAt\" datetime)");
    await queryRunner.query("INSERT INTO \"temporary_conversations\"(\"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\") SELECT \"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\" FROM \"conversations\"");
    await queryRunner.query("DROP TABLE \"conversations\"");
    await queryRunner.query("ALTER TABLE \"temporary_conversations\" RENAME TO \"conversations\"");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_last\" ON \"conversations\" (\"mailboxId\", \"lastMessageAt\") ");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_subject\" ON \"conversations\" (\"mailboxId\", \"subjectKey\") ");
    await queryRunner.query("DROP INDEX \"IDX_draft_conversation\"");
    await queryRunner.query("CREATE TABLE \"temporary_drafts\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"conversationId\" integer NOT NULL, \"messageRowId\" integer NOT NULL, \"status\" varchar(16) NOT NULL, \"body\" text NOT NULL, \"origin\" varchar(16) NOT NULL, \"flags\" text NOT NULL, \"model\" varchar(255), \"tokens\" integer, \"durationMs\" integer, \"reviewerId\" integer, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), \"embedding\" text)");
    await queryRunner.query("INSERT INTO \"temporary_drafts\"(\"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\") SELECT \"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\" FROM \"drafts\"");
    await queryRunner.query("DROP TABLE \"drafts\"");
    await queryRunner.query("ALTER TABLE \"temporary_drafts\" RENAME TO \"drafts\"");
    await queryRunner.query("CREATE INDEX \"IDX_draft_conversation\" ON \"drafts\" (\"conversationId\", \"status\") ");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"IDX_draft_conversation\"");
    await queryRunner.query("ALTER TABLE \"drafts\" RENAME TO \"temporary_drafts\"");
    await queryRunner.query("CREATE TABLE \"drafts\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"conversationId\" integer NOT NULL, \"messageRowId\" integer NOT NULL, \"status\" varchar(16) NOT NULL, \"body\" text NOT NULL, \"origin\" varchar(16) NOT NULL, \"flags\" text NOT NULL, \"model\" varchar(255), \"tokens\" integer, \"durationMs\" integer, \"reviewerId\" integer, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("INSERT INTO \"drafts\"(\"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\") SELECT \"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\" FROM \"temporary_drafts\"");
    await queryRunner.query("DROP TABLE \"temporary_drafts\"");
    await queryRunner.query("CREATE INDEX \"IDX_draft_conversation\" ON \"drafts\" (\"conversationId\", \"status\") ");
    await queryRunner.query("DROP INDEX \"IDX_conversation_subject\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_last\"");
    await queryRunner.query("ALTER TABLE \"conversations\" RENAME TO \"temporary_conversations\"");
    await queryRunner.query("CREATE TABLE \"conversations\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"subject\" varchar(998) NOT NULL, \"subjectKey\" varchar(255) NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"priority\" varchar(16), \"automated\" boolean NOT NULL DEFAULT (0), \"participants\" text NOT NULL, \"lastMessageAt\" datetime NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("INSERT INTO \"conversations\"(\"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\") SELECT \"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\" FROM \"temporary_conversations\"");
    await queryRunner.query("DROP TABLE \"temporary_conversations\"");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_subject\" ON \"conversations\" (\"mailboxId\", \"subjectKey\") ");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_last\" ON \"conversations\" (\"mailboxId\", \"lastMessageAt\") ");
    await queryRunner.query("DROP INDEX \"IDX_triage_conversation\"");
    await queryRunner.query("DROP TABLE \"triages\"");
  }
}
