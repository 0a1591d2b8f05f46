import type { MigrationInterface, QueryRunner } from "typeorm";

export class DraftPending1796026260279 implements MigrationInterface {
  name = "DraftPending1796026260279";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Rows the new rules would refuse: a `generating` draft from before has no job to clean it up, and a
    // message with more than one pending draft (the race this migration closes) keeps only its newest.
    await queryRunner.query("UPDATE `drafts` SET `status` = 'failed' WHERE `status` = 'generating'");
    await queryRunner.query("UPDATE `drafts` SET `status` = 'superseded' WHERE `status` = 'pending' AND `id` NOT IN (SELECT `id` FROM (SELECT MAX(`id`) AS `id` FROM `drafts` WHERE `status` = 'pending' GROUP BY `messageRowId`) AS `keep`)");
    await queryRunner.query("DROP INDEX \"IDX_draft_conversation\"");
    await queryRunner.query("CREATE TABLE \"temporary_drafts\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"conversationId\" integer NOT NULL, \"messageRowId\" integer NOT NULL, \"status\" varchar(16) NOT NULL, \"body\" text NOT NULL, \"origin\" varchar(16) NOT NULL, \"flags\" text NOT NULL, \"model\" varchar(255), \"tokens\" integer, \"durationMs\" integer, \"reviewerId\" integer, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), \"embedding\" text, \"jobId\" integer, \"pendingMessageRowId\" integer AS (CASE WHEN `status` = 'pending' THEN `messageRowId` END) STORED, CONSTRAINT \"UQ_1fcc62401f46b801757998e2dda\" UNIQUE (\"pendingMessageRowId\"))");
    await queryRunner.query("INSERT INTO \"temporary_drafts\"(\"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\", \"embedding\") SELECT \"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\", \"embedding\" FROM \"drafts\"");
    await queryRunner.query("DROP TABLE \"drafts\"");
    await queryRunner.query("ALTER TABLE \"temporary_drafts\" RENAME TO \"drafts\"");
    await queryRunner.query("CREATE INDEX \"IDX_draft_conversation\" ON \"drafts\" (\"conversationId\", \"status\") ");
    await queryRunner.query("INSERT INTO \"typeorm_metadata\"(\"database\", \"schema\", \"table\", \"type\", \"name\", \"value\") VALUES (NULL, NULL, ?, ?, ?, ?)", ["drafts","GENERATED_COLUMN","pendingMessageRowId","CASE WHEN `status` = 'pending' THEN `messageRowId` END"]);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DELETE FROM \"typeorm_metadata\" WHERE \"type\" = ? AND \"name\" = ? AND \"table\" = ?", ["GENERATED_COLUMN","pendingMessageRowId","drafts"]);
    await queryRunner.query("DROP INDEX \"IDX_draft_conversation\"");
    await queryRunner.query("ALTER TABLE \"drafts\" RENAME TO \"temporary_drafts\"");
    await queryRunner.query("CREATE TABLE \"drafts\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"conversationId\" integer NOT NULL, \"messageRowId\" integer NOT NULL, \"status\" varchar(16) NOT NULL, \"body\" text NOT NULL, \"origin\" varchar(16) NOT NULL, \"flags\" text NOT NULL, \"model\" varchar(255), \"tokens\" integer, \"durationMs\" integer, \"reviewerId\" integer, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), \"embedding\" text)");
    await queryRunner.query("INSERT INTO \"drafts\"(\"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\", \"embedding\") SELECT \"id\", \"conversationId\", \"messageRowId\", \"status\", \"body\", \"origin\", \"flags\", \"model\", \"tokens\", \"durationMs\", \"reviewerId\", \"createdAt\", \"updatedAt\", \"embedding\" FROM \"temporary_drafts\"");
    await queryRunner.query("DROP TABLE \"temporary_drafts\"");
    await queryRunner.query("CREATE INDEX \"IDX_draft_conversation\" ON \"drafts\" (\"conversationId\", \"status\") ");
  }
}
