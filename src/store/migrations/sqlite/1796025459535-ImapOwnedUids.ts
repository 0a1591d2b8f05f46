import type { MigrationInterface, QueryRunner } from "typeorm";

export class ImapOwnedUids1796025459535 implements MigrationInterface {
  name = "ImapOwnedUids1796025459535";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"UQ_quarantine_content\"");
    await queryRunner.query("CREATE TABLE \"temporary_quarantine\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"source\" varchar(32) NOT NULL, \"sourceRef\" varchar(1024), \"reason\" varchar(1000) NOT NULL, \"errorCode\" varchar(32) NOT NULL, \"sha256\" varchar(64) NOT NULL, \"size\" integer NOT NULL, \"blobId\" integer NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"resolvedAt\" datetime, \"declaredSize\" bigint)");
    await queryRunner.query("INSERT INTO \"temporary_quarantine\"(\"id\", \"mailboxId\", \"source\", \"sourceRef\", \"reason\", \"errorCode\", \"sha256\", \"size\", \"blobId\", \"status\", \"createdAt\", \"resolvedAt\") SELECT \"id\", \"mailboxId\", \"source\", \"sourceRef\", \"reason\", \"errorCode\", \"sha256\", \"size\", \"blobId\", \"status\", \"createdAt\", \"resolvedAt\" FROM \"quarantine\"");
    await queryRunner.query("DROP TABLE \"quarantine\"");
    await queryRunner.query("ALTER TABLE \"temporary_quarantine\" RENAME TO \"quarantine\"");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_quarantine_content\" ON \"quarantine\" (\"mailboxId\", \"sha256\") ");
    await queryRunner.query("DROP INDEX \"UQ_checkpoint_folder\"");
    await queryRunner.query("CREATE TABLE \"temporary_imap_checkpoints\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"folder\" varchar(255) NOT NULL, \"uidValidity\" varchar(20) NOT NULL, \"lastUid\" bigint NOT NULL, \"highestModseq\" varchar(20), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), \"firstUid\" bigint)");
    await queryRunner.query("INSERT INTO \"temporary_imap_checkpoints\"(\"id\", \"mailboxId\", \"folder\", \"uidValidity\", \"lastUid\", \"highestModseq\", \"updatedAt\") SELECT \"id\", \"mailboxId\", \"folder\", \"uidValidity\", \"lastUid\", \"highestModseq\", \"updatedAt\" FROM \"imap_checkpoints\"");
    await queryRunner.query("DROP TABLE \"imap_checkpoints\"");
    await queryRunner.query("ALTER TABLE \"temporary_imap_checkpoints\" RENAME TO \"imap_checkpoints\"");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_checkpoint_folder\" ON \"imap_checkpoints\" (\"mailboxId\", \"folder\") ");
    // Existing checkpoints do not know which mail below them they took: treat none of it as theirs, so
    // moveTo never moves mail that an earlier first sync skipped (written by hand, not generated).
    await queryRunner.query("UPDATE \"imap_checkpoints\" SET \"firstUid\" = \"lastUid\" + 1");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"UQ_checkpoint_folder\"");
    await queryRunner.query("ALTER TABLE \"imap_checkpoints\" RENAME TO \"temporary_imap_checkpoints\"");
    await queryRunner.query("CREATE TABLE \"imap_checkpoints\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"folder\" varchar(255) NOT NULL, \"uidValidity\" varchar(20) NOT NULL, \"lastUid\" bigint NOT NULL, \"highestModseq\" varchar(20), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("INSERT INTO \"imap_checkpoints\"(\"id\", \"mailboxId\", \"folder\", \"uidValidity\", \"lastUid\", \"highestModseq\", \"updatedAt\") SELECT \"id\", \"mailboxId\", \"folder\", \"uidValidity\", \"lastUid\", \"highestModseq\", \"updatedAt\" FROM \"temporary_imap_checkpoints\"");
    await queryRunner.query("DROP TABLE \"temporary_imap_checkpoints\"");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_checkpoint_folder\" ON \"imap_checkpoints\" (\"mailboxId\", \"folder\") ");
    await queryRunner.query("DROP INDEX \"UQ_quarantine_content\"");
    await queryRunner.query("ALTER TABLE \"quarantine\" RENAME TO \"temporary_quarantine\"");
    await queryRunner.query("CREATE TABLE \"quarantine\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"source\" varchar(32) NOT NULL, \"sourceRef\" varchar(1024), \"reason\" varchar(1000) NOT NULL, \"errorCode\" varchar(32) NOT NULL, \"sha256\" varchar(64) NOT NULL, \"size\" integer NOT NULL, \"blobId\" integer NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"resolvedAt\" datetime)");
    await queryRunner.query("INSERT INTO \"quarantine\"(\"id\", \"mailboxId\", \"source\", \"sourceRef\", \"reason\", \"errorCode\", \"sha256\", \"size\", \"blobId\", \"status\", \"createdAt\", \"resolvedAt\") SELECT \"id\", \"mailboxId\", \"source\", \"sourceRef\", \"reason\", \"errorCode\", \"sha256\", \"size\", \"blobId\", \"status\", \"createdAt\", \"resolvedAt\" FROM \"temporary_quarantine\"");
    await queryRunner.query("DROP TABLE \"temporary_quarantine\"");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_quarantine_content\" ON \"quarantine\" (\"mailboxId\", \"sha256\") ");
  }
}
