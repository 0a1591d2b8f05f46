import type { MigrationInterface, QueryRunner } from "typeorm";

export class LlmTriage1795953305617 implements MigrationInterface {
  name = "LlmTriage1795953305617";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE `triages` (`id` int NOT NULL AUTO_INCREMENT, `messageRowId` int NOT NULL, `conversationId` int NOT NULL, `priority` varchar(16) NOT NULL, `category` varchar(40) NOT NULL, `sentiment` varchar(16) NOT NULL, `language` varchar(8) NOT NULL, `summary` varchar(255) NOT NULL, `confidence` double NOT NULL, `flags` mediumtext NOT NULL, `decidedBy` varchar(16) NOT NULL, `matchedRules` mediumtext NOT NULL, `model` varchar(255) NULL, `tokens` int NULL, `durationMs` int NULL, `slaDueAt` datetime(3) NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX `IDX_triage_conversation` (`conversationId`), UNIQUE INDEX `IDX_15b3d02be8349a02e107905cf9` (`messageRowId`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("ALTER TABLE `conversations` ADD `slaDueAt` datetime(3) NULL");
    await queryRunner.query("ALTER TABLE `drafts` ADD `embedding` mediumtext NULL");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `embedding`");
    await queryRunner.query("ALTER TABLE `conversations` DROP COLUMN `slaDueAt`");
    await queryRunner.query("DROP INDEX `IDX_15b3d02be8349a02e107905cf9` ON `triages`");
    await queryRunner.query("DROP INDEX `IDX_triage_conversation` ON `triages`");
    await queryRunner.query("DROP TABLE `triages`");
  }
}
