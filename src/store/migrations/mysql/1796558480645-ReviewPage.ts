import type { MigrationInterface, QueryRunner } from "typeorm";

export class ReviewPage1796558480645 implements MigrationInterface {
  name = "ReviewPage1796558480645";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE `app_secrets` (`name` varchar(64) NOT NULL, `value` varchar(255) NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), PRIMARY KEY (`name`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `api_tokens` (`id` int NOT NULL AUTO_INCREMENT, `userId` int NOT NULL, `name` varchar(128) NOT NULL, `tokenHash` varchar(64) NOT NULL, `scope` varchar(16) NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `lastUsedAt` datetime(3) NULL, `revokedAt` datetime(3) NULL, UNIQUE INDEX `IDX_cdac8e064e6e9c2e0835d1c1b8` (`tokenHash`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `notes` (`id` int NOT NULL AUTO_INCREMENT, `conversationId` int NOT NULL, `author` varchar(320) NOT NULL, `body` mediumtext NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX `IDX_note_conversation` (`conversationId`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `teams` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(128) NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), UNIQUE INDEX `IDX_48c0c32e6247a2de155baeaf98` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `team_members` (`teamId` int NOT NULL, `userId` int NOT NULL, INDEX `IDX_team_member_user` (`userId`), PRIMARY KEY (`teamId`, `userId`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `team_mailboxes` (`teamId` int NOT NULL, `mailboxId` int NOT NULL, PRIMARY KEY (`teamId`, `mailboxId`)) ENGINE=InnoDB");
    await queryRunner.query("ALTER TABLE `conversations` ADD `assigneeId` int NULL");
    await queryRunner.query("ALTER TABLE `users` ADD `failedLogins` int NOT NULL DEFAULT '0'");
    await queryRunner.query("ALTER TABLE `users` ADD `lockedUntil` datetime(3) NULL");
    await queryRunner.query("ALTER TABLE `sessions` ADD `ip` varchar(64) NULL");
    await queryRunner.query("ALTER TABLE `sessions` ADD `userAgent` varchar(255) NULL");
    await queryRunner.query("ALTER TABLE `sessions` ADD `lastSeenAt` datetime(3) NOT NULL");
    await queryRunner.query("ALTER TABLE `sessions` CHANGE `userId` `userId` int NULL");
    await queryRunner.query("CREATE INDEX `IDX_conversation_queue` ON `conversations` (`status`, `mailboxId`, `slaDueAt`)");
    await queryRunner.query("CREATE INDEX `IDX_session_user` ON `sessions` (`userId`)");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX `IDX_session_user` ON `sessions`");
    await queryRunner.query("DROP INDEX `IDX_conversation_queue` ON `conversations`");
    await queryRunner.query("ALTER TABLE `sessions` CHANGE `userId` `userId` int NOT NULL");
    await queryRunner.query("ALTER TABLE `sessions` DROP COLUMN `lastSeenAt`");
    await queryRunner.query("ALTER TABLE `sessions` DROP COLUMN `userAgent`");
    await queryRunner.query("ALTER TABLE `sessions` DROP COLUMN `ip`");
    await queryRunner.query("ALTER TABLE `users` DROP COLUMN `lockedUntil`");
    await queryRunner.query("ALTER TABLE `users` DROP COLUMN `failedLogins`");
    await queryRunner.query("ALTER TABLE `conversations` DROP COLUMN `assigneeId`");
    await queryRunner.query("DROP TABLE `team_mailboxes`");
    await queryRunner.query("DROP INDEX `IDX_team_member_user` ON `team_members`");
    await queryRunner.query("DROP TABLE `team_members`");
    await queryRunner.query("DROP INDEX `IDX_48c0c32e6247a2de155baeaf98` ON `teams`");
    await queryRunner.query("DROP TABLE `teams`");
    await queryRunner.query("DROP INDEX `IDX_note_conversation` ON `notes`");
    await queryRunner.query("DROP TABLE `notes`");
    await queryRunner.query("DROP INDEX `IDX_cdac8e064e6e9c2e0835d1c1b8` ON `api_tokens`");
    await queryRunner.query("DROP TABLE `api_tokens`");
    await queryRunner.query("DROP TABLE `app_secrets`");
  }
}
