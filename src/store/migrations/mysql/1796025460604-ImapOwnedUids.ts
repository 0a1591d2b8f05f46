import type { MigrationInterface, QueryRunner } from "typeorm";

export class ImapOwnedUids1796025460604 implements MigrationInterface {
  name = "ImapOwnedUids1796025460604";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE `quarantine` ADD `declaredSize` bigint NULL");
    await queryRunner.query("ALTER TABLE `imap_checkpoints` ADD `firstUid` bigint NULL");
    // Existing checkpoints do not know which mail below them they took: treat none of it as theirs, so
    // moveTo never moves mail that an earlier first sync skipped (written by hand, not generated).
    await queryRunner.query("UPDATE `imap_checkpoints` SET `firstUid` = `lastUid` + 1");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE `imap_checkpoints` DROP COLUMN `firstUid`");
    await queryRunner.query("ALTER TABLE `quarantine` DROP COLUMN `declaredSize`");
  }
}
