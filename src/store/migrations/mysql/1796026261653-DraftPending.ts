import type { MigrationInterface, QueryRunner } from "typeorm";

export class DraftPending1796026261653 implements MigrationInterface {
  name = "DraftPending1796026261653";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Rows the new rules would refuse: a `generating` draft from before has no job to clean it up, and a
    // message with more than one pending draft (the race this migration closes) keeps only its newest.
    await queryRunner.query("UPDATE `drafts` SET `status` = 'failed' WHERE `status` = 'generating'");
    await queryRunner.query("UPDATE `drafts` SET `status` = 'superseded' WHERE `status` = 'pending' AND `id` NOT IN (SELECT `id` FROM (SELECT MAX(`id`) AS `id` FROM `drafts` WHERE `status` = 'pending' GROUP BY `messageRowId`) AS `keep`)");
    await queryRunner.query("ALTER TABLE `drafts` ADD `jobId` int NULL");
    await queryRunner.query("ALTER TABLE `drafts` ADD `pendingMessageRowId` int AS (CASE WHEN `status` = 'pending' THEN `messageRowId` END) STORED");
    await queryRunner.query("INSERT INTO `typeorm_metadata`(`database`, `schema`, `table`, `type`, `name`, `value`) VALUES (DEFAULT, DATABASE(), ?, ?, ?, ?)", ["drafts","GENERATED_COLUMN","pendingMessageRowId","CASE WHEN `status` = 'pending' THEN `messageRowId` END"]);
    await queryRunner.query("ALTER TABLE `drafts` ADD UNIQUE INDEX `IDX_61d624ebb13ef6c18f6ce36dcb` (`pendingMessageRowId`)");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE `drafts` DROP INDEX `IDX_61d624ebb13ef6c18f6ce36dcb`");
    await queryRunner.query("DELETE FROM `typeorm_metadata` WHERE `type` = ? AND `name` = ? AND `schema` = DATABASE() AND `table` = ?", ["GENERATED_COLUMN","pendingMessageRowId","drafts"]);
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `pendingMessageRowId`");
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `jobId`");
  }
}
