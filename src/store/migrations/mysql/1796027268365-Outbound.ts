import type { MigrationInterface, QueryRunner } from "typeorm";

export class Outbound1796027268365 implements MigrationInterface {
  name = "Outbound1796027268365";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX `IDX_outbox_state` ON `outbox`");
    await queryRunner.query("ALTER TABLE `drafts` ADD `decidedBy` varchar(320) NULL");
    await queryRunner.query("ALTER TABLE `drafts` ADD `decidedAt` datetime(3) NULL");
    await queryRunner.query("ALTER TABLE `drafts` ADD `bodyHash` varchar(64) NULL");
    await queryRunner.query("ALTER TABLE `drafts` ADD `originalBody` mediumtext NULL");
    await queryRunner.query("ALTER TABLE `drafts` ADD `reason` mediumtext NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `answeredMessageRowId` int NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `fromAddress` varchar(320) NOT NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `bodyHash` varchar(64) NOT NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `approvedAt` datetime(3) NOT NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `nextAttemptAt` datetime(3) NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `rawBlobId` int NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `resolvedBy` varchar(320) NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `resolution` varchar(16) NULL");
    await queryRunner.query("ALTER TABLE `outbox` ADD `resolvedAt` datetime(3) NULL");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `approvedBy`");
    await queryRunner.query("ALTER TABLE `outbox` ADD `approvedBy` varchar(320) NOT NULL");
    await queryRunner.query("CREATE INDEX `IDX_outbox_state` ON `outbox` (`state`, `nextAttemptAt`)");
    await queryRunner.query("CREATE INDEX `IDX_outbox_conversation` ON `outbox` (`conversationId`)");
    await queryRunner.query("CREATE INDEX `IDX_outbox_sent` ON `outbox` (`sentAt`)");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX `IDX_outbox_sent` ON `outbox`");
    await queryRunner.query("DROP INDEX `IDX_outbox_conversation` ON `outbox`");
    await queryRunner.query("DROP INDEX `IDX_outbox_state` ON `outbox`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `approvedBy`");
    await queryRunner.query("ALTER TABLE `outbox` ADD `approvedBy` int NULL");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `resolvedAt`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `resolution`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `resolvedBy`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `rawBlobId`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `nextAttemptAt`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `approvedAt`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `bodyHash`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `fromAddress`");
    await queryRunner.query("ALTER TABLE `outbox` DROP COLUMN `answeredMessageRowId`");
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `reason`");
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `originalBody`");
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `bodyHash`");
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `decidedAt`");
    await queryRunner.query("ALTER TABLE `drafts` DROP COLUMN `decidedBy`");
    await queryRunner.query("CREATE INDEX `IDX_outbox_state` ON `outbox` (`state`)");
  }
}
