import type { MigrationInterface, QueryRunner } from "typeorm";

export class ImapSync1795952844888 implements MigrationInterface {
  name = "ImapSync1795952844888";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE `imap_checkpoints` (`id` int NOT NULL AUTO_INCREMENT, `mailboxId` int NOT NULL, `folder` varchar(255) NOT NULL, `uidValidity` varchar(20) NOT NULL, `lastUid` bigint NOT NULL, `highestModseq` varchar(20) NULL, `updatedAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), UNIQUE INDEX `UQ_checkpoint_folder` (`mailboxId`, `folder`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `mailbox_leases` (`mailboxId` int NOT NULL, `owner` varchar(128) NOT NULL, `leaseUntil` datetime(3) NOT NULL, `status` mediumtext NULL, `updatedAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), PRIMARY KEY (`mailboxId`)) ENGINE=InnoDB");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE `mailbox_leases`");
    await queryRunner.query("DROP INDEX `UQ_checkpoint_folder` ON `imap_checkpoints`");
    await queryRunner.query("DROP TABLE `imap_checkpoints`");
  }
}
