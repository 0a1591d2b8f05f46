import type { MigrationInterface, QueryRunner } from "typeorm";

export class ImapSync1795952843591 implements MigrationInterface {
  name = "ImapSync1795952843591";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"imap_checkpoints\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"folder\" varchar(255) NOT NULL, \"uidValidity\" varchar(20) NOT NULL, \"lastUid\" bigint NOT NULL, \"highestModseq\" varchar(20), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_checkpoint_folder\" ON \"imap_checkpoints\" (\"mailboxId\", \"folder\") ");
    await queryRunner.query("CREATE TABLE \"mailbox_leases\" (\"mailboxId\" integer PRIMARY KEY NOT NULL, \"owner\" varchar(128) NOT NULL, \"leaseUntil\" datetime NOT NULL, \"status\" text, \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')))");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE \"mailbox_leases\"");
    await queryRunner.query("DROP INDEX \"UQ_checkpoint_folder\"");
    await queryRunner.query("DROP TABLE \"imap_checkpoints\"");
  }
}
