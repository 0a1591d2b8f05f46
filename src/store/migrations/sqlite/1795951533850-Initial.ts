import type { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795951533850 implements MigrationInterface {
  name = "Initial1795951533850";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"mailboxes\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"name\" varchar(64) NOT NULL, \"address\" varchar(320), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_5362af2557158732552a6c80691\" UNIQUE (\"name\"))");
    await queryRunner.query("CREATE TABLE \"conversations\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"subject\" varchar(998) NOT NULL, \"subjectKey\" varchar(255) NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"priority\" varchar(16), \"automated\" boolean NOT NULL DEFAULT (0), \"participants\" text NOT NULL, \"lastMessageAt\" datetime NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_subject\" ON \"conversations\" (\"mailboxId\", \"subjectKey\") ");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_last\" ON \"conversations\" (\"mailboxId\", \"lastMessageAt\") ");
    await queryRunner.query("CREATE TABLE \"messages\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"conversationId\" integer NOT NULL, \"dedupeKey\" varchar(64) NOT NULL, \"messageId\" varchar(512), \"inReplyTo\" varchar(512), \"references\" text NOT NULL, \"subject\" varchar(998) NOT NULL, \"fromAddress\" varchar(320), \"fromName\" varchar(320), \"to\" text NOT NULL, \"cc\" text NOT NULL, \"replyTo\" text NOT NULL, \"date\" datetime, \"receivedAt\" datetime NOT NULL, \"direction\" varchar(16) NOT NULL, \"automated\" boolean NOT NULL DEFAULT (0), \"automatedReason\" varchar(32), \"text\" text NOT NULL, \"newText\" text NOT NULL, \"html\" text, \"headers\" text NOT NULL, \"contentType\" varchar(128) NOT NULL, \"contentHash\" varchar(64) NOT NULL, \"size\" integer NOT NULL, \"rawBlobId\" integer NOT NULL, \"source\" varchar(32) NOT NULL, \"sourceRef\" varchar(1024), \"threadRule\" varchar(16) NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_message_dedupe\" ON \"messages\" (\"mailboxId\", \"dedupeKey\") ");
    await queryRunner.query("CREATE INDEX \"IDX_message_mid\" ON \"messages\" (\"mailboxId\", \"messageId\") ");
    await queryRunner.query("CREATE INDEX \"IDX_message_conversation\" ON \"messages\" (\"conversationId\", \"date\") ");
    await queryRunner.query("CREATE TABLE \"message_refs\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"messageRowId\" integer NOT NULL, \"refId\" varchar(512) NOT NULL)");
    await queryRunner.query("CREATE INDEX \"IDX_ref_ref\" ON \"message_refs\" (\"mailboxId\", \"refId\") ");
    await queryRunner.query("CREATE INDEX \"IDX_ref_message\" ON \"message_refs\" (\"messageRowId\") ");
    await queryRunner.query("CREATE TABLE \"attachments\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"messageRowId\" integer NOT NULL, \"filename\" varchar(512), \"contentType\" varchar(255) NOT NULL, \"size\" integer NOT NULL, \"contentId\" varchar(512), \"disposition\" varchar(32), \"sha256\" varchar(64) NOT NULL, \"blobId\" integer NOT NULL)");
    await queryRunner.query("CREATE INDEX \"IDX_attachment_message\" ON \"attachments\" (\"messageRowId\") ");
    await queryRunner.query("CREATE TABLE \"blobs\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"sha256\" varchar(64) NOT NULL, \"size\" integer NOT NULL, \"chunks\" integer NOT NULL, \"head\" blob NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_bf448430f9a07c61c2eb85de185\" UNIQUE (\"sha256\"))");
    await queryRunner.query("CREATE TABLE \"blob_chunks\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"blobId\" integer NOT NULL, \"seq\" integer NOT NULL, \"data\" blob NOT NULL)");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_blob_chunk\" ON \"blob_chunks\" (\"blobId\", \"seq\") ");
    await queryRunner.query("CREATE TABLE \"quarantine\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"source\" varchar(32) NOT NULL, \"sourceRef\" varchar(1024), \"reason\" varchar(1000) NOT NULL, \"errorCode\" varchar(32) NOT NULL, \"sha256\" varchar(64) NOT NULL, \"size\" integer NOT NULL, \"blobId\" integer NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"resolvedAt\" datetime)");
    await queryRunner.query("CREATE UNIQUE INDEX \"UQ_quarantine_content\" ON \"quarantine\" (\"mailboxId\", \"sha256\") ");
    await queryRunner.query("CREATE TABLE \"jobs\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"type\" varchar(64) NOT NULL, \"payload\" text NOT NULL, \"state\" varchar(16) NOT NULL DEFAULT ('queued'), \"priority\" integer NOT NULL DEFAULT (100), \"runAt\" datetime NOT NULL, \"attempts\" integer NOT NULL DEFAULT (0), \"maxAttempts\" integer NOT NULL, \"leaseOwner\" varchar(128), \"leaseUntil\" datetime, \"lastError\" text, \"uniqueKey\" varchar(191), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_96d41aa9ca40ddb79aa3584c60a\" UNIQUE (\"uniqueKey\"))");
    await queryRunner.query("CREATE INDEX \"IDX_job_claim\" ON \"jobs\" (\"state\", \"type\", \"runAt\", \"priority\") ");
    await queryRunner.query("CREATE INDEX \"IDX_job_lease\" ON \"jobs\" (\"state\", \"leaseUntil\") ");
    await queryRunner.query("CREATE TABLE \"events\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"type\" varchar(64) NOT NULL, \"conversationId\" integer, \"payload\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE INDEX \"IDX_event_conversation\" ON \"events\" (\"conversationId\") ");
    await queryRunner.query("CREATE TABLE \"drafts\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"conversationId\" integer NOT NULL, \"messageRowId\" integer NOT NULL, \"status\" varchar(16) NOT NULL, \"body\" text NOT NULL, \"origin\" varchar(16) NOT NULL, \"flags\" text NOT NULL, \"model\" varchar(255), \"tokens\" integer, \"durationMs\" integer, \"reviewerId\" integer, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE INDEX \"IDX_draft_conversation\" ON \"drafts\" (\"conversationId\", \"status\") ");
    await queryRunner.query("CREATE TABLE \"outbox\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"conversationId\" integer NOT NULL, \"draftId\" integer, \"mailboxId\" integer NOT NULL, \"state\" varchar(16) NOT NULL, \"messageId\" varchar(255) NOT NULL, \"to\" text NOT NULL, \"cc\" text NOT NULL, \"subject\" varchar(998) NOT NULL, \"inReplyTo\" varchar(512), \"references\" text NOT NULL, \"body\" text NOT NULL, \"approvedBy\" integer, \"attempts\" integer NOT NULL DEFAULT (0), \"lastError\" text, \"sentAt\" datetime, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_8be8290ea422292f75dc70db438\" UNIQUE (\"draftId\"), CONSTRAINT \"UQ_faca71da1046be0982a48ca0b41\" UNIQUE (\"messageId\"))");
    await queryRunner.query("CREATE INDEX \"IDX_outbox_state\" ON \"outbox\" (\"state\") ");
    await queryRunner.query("CREATE TABLE \"users\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"email\" varchar(320) NOT NULL, \"role\" varchar(16) NOT NULL, \"passwordHash\" varchar(255), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_97672ac88f789774dd47f7c8be3\" UNIQUE (\"email\"))");
    await queryRunner.query("CREATE TABLE \"sessions\" (\"id\" varchar(64) PRIMARY KEY NOT NULL, \"userId\" integer NOT NULL, \"expiresAt\" datetime NOT NULL, \"data\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE INDEX \"IDX_session_expiry\" ON \"sessions\" (\"expiresAt\") ");
    await queryRunner.query("CREATE TABLE \"audit_log\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"actor\" varchar(320) NOT NULL, \"action\" varchar(64) NOT NULL, \"subjectType\" varchar(32) NOT NULL, \"subjectId\" varchar(64), \"detail\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE INDEX \"IDX_audit_subject\" ON \"audit_log\" (\"subjectType\", \"subjectId\") ");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"IDX_audit_subject\"");
    await queryRunner.query("DROP TABLE \"audit_log\"");
    await queryRunner.query("DROP INDEX \"IDX_session_expiry\"");
    await queryRunner.query("DROP TABLE \"sessions\"");
    await queryRunner.query("DROP TABLE \"users\"");
    await queryRunner.query("DROP INDEX \"IDX_outbox_state\"");
    await queryRunner.query("DROP TABLE \"outbox\"");
    await queryRunner.query("DROP INDEX \"IDX_draft_conversation\"");
    await queryRunner.query("DROP TABLE \"drafts\"");
    await queryRunner.query("DROP INDEX \"IDX_event_conversation\"");
    await queryRunner.query("DROP TABLE \"events\"");
    await queryRunner.query("DROP INDEX \"IDX_job_lease\"");
    await queryRunner.query("DROP INDEX \"IDX_job_claim\"");
    await queryRunner.query("DROP TABLE \"jobs\"");
    await queryRunner.query("DROP INDEX \"UQ_quarantine_content\"");
    await queryRunner.query("DROP TABLE \"quarantine\"");
    await queryRunner.query("DROP INDEX \"UQ_blob_chunk\"");
    await queryRunner.query("DROP TABLE \"blob_chunks\"");
    await queryRunner.query("DROP TABLE \"blobs\"");
    await queryRunner.query("DROP INDEX \"IDX_attachment_message\"");
    await queryRunner.query("DROP TABLE \"attachments\"");
    await queryRunner.query("DROP INDEX \"IDX_ref_message\"");
    await queryRunner.query("DROP INDEX \"IDX_ref_ref\"");
    await queryRunner.query("DROP TABLE \"message_refs\"");
    await queryRunner.query("DROP INDEX \"IDX_message_conversation\"");
    await queryRunner.query("DROP INDEX \"IDX_message_mid\"");
    await queryRunner.query("DROP INDEX \"UQ_message_dedupe\"");
    await queryRunner.query("DROP TABLE \"messages\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_last\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_subject\"");
    await queryRunner.query("DROP TABLE \"conversations\"");
    await queryRunner.query("DROP TABLE \"mailboxes\"");
  }
}
