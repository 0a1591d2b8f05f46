import type { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795951534648 implements MigrationInterface {
  name = "Initial1795951534648";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE `mailboxes` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(64) NOT NULL, `address` varchar(320) NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), UNIQUE INDEX `IDX_5362af2557158732552a6c8069` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `conversations` (`id` int NOT NULL AUTO_INCREMENT, `mailboxId` int NOT NULL, `subject` varchar(998) NOT NULL, `subjectKey` varchar(255) NOT NULL, `status` varchar(16) NOT NULL DEFAULT 'open', `priority` varchar(16) NULL, `automated` tinyint NOT NULL DEFAULT 0, `participants` mediumtext NOT NULL, `lastMessageAt` datetime(3) NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `updatedAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), INDEX `IDX_conversation_subject` (`mailboxId`, `subjectKey`), INDEX `IDX_conversation_last` (`mailboxId`, `lastMessageAt`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `messages` (`id` int NOT NULL AUTO_INCREMENT, `mailboxId` int NOT NULL, `conversationId` int NOT NULL, `dedupeKey` varchar(64) NOT NULL, `messageId` varchar(512) NULL, `inReplyTo` varchar(512) NULL, `references` mediumtext NOT NULL, `subject` varchar(998) NOT NULL, `fromAddress` varchar(320) NULL, `fromName` varchar(320) NULL, `to` mediumtext NOT NULL, `cc` mediumtext NOT NULL, `replyTo` mediumtext NOT NULL, `date` datetime(3) NULL, `receivedAt` datetime(3) NOT NULL, `direction` varchar(16) NOT NULL, `automated` tinyint NOT NULL DEFAULT 0, `automatedReason` varchar(32) NULL, `text` mediumtext NOT NULL, `newText` mediumtext NOT NULL, `html` mediumtext NULL, `headers` mediumtext NOT NULL, `contentType` varchar(128) NOT NULL, `contentHash` varchar(64) NOT NULL, `size` int NOT NULL, `rawBlobId` int NOT NULL, `source` varchar(32) NOT NULL, `sourceRef` varchar(1024) NULL, `threadRule` varchar(16) NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), UNIQUE INDEX `UQ_message_dedupe` (`mailboxId`, `dedupeKey`), INDEX `IDX_message_mid` (`mailboxId`, `messageId`), INDEX `IDX_message_conversation` (`conversationId`, `date`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `message_refs` (`id` int NOT NULL AUTO_INCREMENT, `mailboxId` int NOT NULL, `messageRowId` int NOT NULL, `refId` varchar(512) NOT NULL, INDEX `IDX_ref_ref` (`mailboxId`, `refId`), INDEX `IDX_ref_message` (`messageRowId`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `attachments` (`id` int NOT NULL AUTO_INCREMENT, `messageRowId` int NOT NULL, `filename` varchar(512) NULL, `contentType` varchar(255) NOT NULL, `size` int NOT NULL, `contentId` varchar(512) NULL, `disposition` varchar(32) NULL, `sha256` varchar(64) NOT NULL, `blobId` int NOT NULL, INDEX `IDX_attachment_message` (`messageRowId`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `blobs` (`id` int NOT NULL AUTO_INCREMENT, `sha256` varchar(64) NOT NULL, `size` int NOT NULL, `chunks` int NOT NULL, `head` mediumblob NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), UNIQUE INDEX `IDX_bf448430f9a07c61c2eb85de18` (`sha256`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `blob_chunks` (`id` int NOT NULL AUTO_INCREMENT, `blobId` int NOT NULL, `seq` int NOT NULL, `data` mediumblob NOT NULL, UNIQUE INDEX `UQ_blob_chunk` (`blobId`, `seq`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `quarantine` (`id` int NOT NULL AUTO_INCREMENT, `mailboxId` int NOT NULL, `source` varchar(32) NOT NULL, `sourceRef` varchar(1024) NULL, `reason` varchar(1000) NOT NULL, `errorCode` varchar(32) NOT NULL, `sha256` varchar(64) NOT NULL, `size` int NOT NULL, `blobId` int NOT NULL, `status` varchar(16) NOT NULL DEFAULT 'open', `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `resolvedAt` datetime(3) NULL, UNIQUE INDEX `UQ_quarantine_content` (`mailboxId`, `sha256`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `jobs` (`id` int NOT NULL AUTO_INCREMENT, `type` varchar(64) NOT NULL, `payload` mediumtext NOT NULL, `state` varchar(16) NOT NULL DEFAULT 'queued', `priority` int NOT NULL DEFAULT '100', `runAt` datetime(3) NOT NULL, `attempts` int NOT NULL DEFAULT '0', `maxAttempts` int NOT NULL, `leaseOwner` varchar(128) NULL, `leaseUntil` datetime(3) NULL, `lastError` mediumtext NULL, `uniqueKey` varchar(191) NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `updatedAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), INDEX `IDX_job_claim` (`state`, `type`, `runAt`, `priority`), INDEX `IDX_job_lease` (`state`, `leaseUntil`), UNIQUE INDEX `IDX_96d41aa9ca40ddb79aa3584c60` (`uniqueKey`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `events` (`id` int NOT NULL AUTO_INCREMENT, `type` varchar(64) NOT NULL, `conversationId` int NULL, `payload` mediumtext NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX `IDX_event_conversation` (`conversationId`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `drafts` (`id` int NOT NULL AUTO_INCREMENT, `conversationId` int NOT NULL, `messageRowId` int NOT NULL, `status` varchar(16) NOT NULL, `body` mediumtext NOT NULL, `origin` varchar(16) NOT NULL, `flags` mediumtext NOT NULL, `model` varchar(255) NULL, `tokens` int NULL, `durationMs` int NULL, `reviewerId` int NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `updatedAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), INDEX `IDX_draft_conversation` (`conversationId`, `status`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `outbox` (`id` int NOT NULL AUTO_INCREMENT, `conversationId` int NOT NULL, `draftId` int NULL, `mailboxId` int NOT NULL, `state` varchar(16) NOT NULL, `messageId` varchar(255) NOT NULL, `to` mediumtext NOT NULL, `cc` mediumtext NOT NULL, `subject` varchar(998) NOT NULL, `inReplyTo` varchar(512) NULL, `references` mediumtext NOT NULL, `body` mediumtext NOT NULL, `approvedBy` int NULL, `attempts` int NOT NULL DEFAULT '0', `lastError` mediumtext NULL, `sentAt` datetime(3) NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `updatedAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), INDEX `IDX_outbox_state` (`state`), UNIQUE INDEX `IDX_8be8290ea422292f75dc70db43` (`draftId`), UNIQUE INDEX `IDX_faca71da1046be0982a48ca0b4` (`messageId`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `users` (`id` int NOT NULL AUTO_INCREMENT, `email` varchar(320) NOT NULL, `role` varchar(16) NOT NULL, `passwordHash` varchar(255) NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), UNIQUE INDEX `IDX_97672ac88f789774dd47f7c8be` (`email`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `sessions` (`id` varchar(64) NOT NULL, `userId` int NOT NULL, `expiresAt` datetime(3) NOT NULL, `data` mediumtext NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX `IDX_session_expiry` (`expiresAt`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
    await queryRunner.query("CREATE TABLE `audit_log` (`id` int NOT NULL AUTO_INCREMENT, `actor` varchar(320) NOT NULL, `action` varchar(64) NOT NULL, `subjectType` varchar(32) NOT NULL, `subjectId` varchar(64) NULL, `detail` mediumtext NOT NULL, `createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX `IDX_audit_subject` (`subjectType`, `subjectId`), PRIMARY KEY (`id`)) ENGINE=InnoDB");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX `IDX_audit_subject` ON `audit_log`");
    await queryRunner.query("DROP TABLE `audit_log`");
    await queryRunner.query("DROP INDEX `IDX_session_expiry` ON `sessions`");
    await queryRunner.query("DROP TABLE `sessions`");
    await queryRunner.query("DROP INDEX `IDX_97672ac88f789774dd47f7c8be` ON `users`");
    await queryRunner.query("DROP TABLE `users`");
    await queryRunner.query("DROP INDEX `IDX_faca71da1046be0982a48ca0b4` ON `outbox`");
    await queryRunner.query("DROP INDEX `IDX_8be8290ea422292f75dc70db43` ON `outbox`");
    await queryRunner.query("DROP INDEX `IDX_outbox_state` ON `outbox`");
    await queryRunner.query("DROP TABLE `outbox`");
    await queryRunner.query("DROP INDEX `IDX_draft_conversation` ON `drafts`");
    await queryRunner.query("DROP TABLE `drafts`");
    await queryRunner.query("DROP INDEX `IDX_event_conversation` ON `events`");
    await queryRunner.query("DROP TABLE `events`");
    await queryRunner.query("DROP INDEX `IDX_96d41aa9ca40ddb79aa3584c60` ON `jobs`");
    await queryRunner.query("DROP INDEX `IDX_job_lease` ON `jobs`");
    await queryRunner.query("DROP INDEX `IDX_job_claim` ON `jobs`");
    await queryRunner.query("DROP TABLE `jobs`");
    await queryRunner.query("DROP INDEX `UQ_quarantine_content` ON `quarantine`");
    await queryRunner.query("DROP TABLE `quarantine`");
    await queryRunner.query("DROP INDEX `UQ_blob_chunk` ON `blob_chunks`");
    await queryRunner.query("DROP TABLE `blob_chunks`");
    await queryRunner.query("DROP INDEX `IDX_bf448430f9a07c61c2eb85de18` ON `blobs`");
    await queryRunner.query("DROP TABLE `blobs`");
    await queryRunner.query("DROP INDEX `IDX_attachment_message` ON `attachments`");
    await queryRunner.query("DROP TABLE `attachments`");
    await queryRunner.query("DROP INDEX `IDX_ref_message` ON `message_refs`");
    await queryRunner.query("DROP INDEX `IDX_ref_ref` ON `message_refs`");
    await queryRunner.query("DROP TABLE `message_refs`");
    await queryRunner.query("DROP INDEX `IDX_message_conversation` ON `messages`");
    await queryRunner.query("DROP INDEX `IDX_message_mid` ON `messages`");
    await queryRunner.query("DROP INDEX `UQ_message_dedupe` ON `messages`");
    await queryRunner.query("DROP TABLE `messages`");
    await queryRunner.query("DROP INDEX `IDX_conversation_last` ON `conversations`");
    await queryRunner.query("DROP INDEX `IDX_conversation_subject` ON `conversations`");
    await queryRunner.query("DROP TABLE `conversations`");
    await queryRunner.query("DROP INDEX `IDX_5362af2557158732552a6c8069` ON `mailboxes`");
    await queryRunner.query("DROP TABLE `mailboxes`");
  }
}
