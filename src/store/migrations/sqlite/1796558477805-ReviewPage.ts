import type { MigrationInterface, QueryRunner } from "typeorm";

export class ReviewPage1796558477805 implements MigrationInterface {
  name = "ReviewPage1796558477805";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"app_secrets\" (\"name\" varchar(64) PRIMARY KEY NOT NULL, \"value\" varchar(255) NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE TABLE \"api_tokens\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"userId\" integer NOT NULL, \"name\" varchar(128) NOT NULL, \"tokenHash\" varchar(64) NOT NULL, \"scope\" varchar(16) NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"lastUsedAt\" datetime, \"revokedAt\" datetime, CONSTRAINT \"UQ_cdac8e064e6e9c2e0835d1c1b86\" UNIQUE (\"tokenHash\"))");
    await queryRunner.query("CREATE TABLE \"notes\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"conversationId\" integer NOT NULL, \"author\" varchar(320) NOT NULL, \"body\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("CREATE INDEX \"IDX_note_conversation\" ON \"notes\" (\"conversationId\") ");
    await queryRunner.query("CREATE TABLE \"teams\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"name\" varchar(128) NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_48c0c32e6247a2de155baeaf980\" UNIQUE (\"name\"))");
    await queryRunner.query("CREATE TABLE \"team_members\" (\"teamId\" integer NOT NULL, \"userId\" integer NOT NULL, PRIMARY KEY (\"teamId\", \"userId\"))");
    await queryRunner.query("CREATE INDEX \"IDX_team_member_user\" ON \"team_members\" (\"userId\") ");
    await queryRunner.query("CREATE TABLE \"team_mailboxes\" (\"teamId\" integer NOT NULL, \"mailboxId\" integer NOT NULL, PRIMARY KEY (\"teamId\", \"mailboxId\"))");
    await queryRunner.query("DROP INDEX \"IDX_conversation_subject\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_last\"");
    await queryRunner.query("CREATE TABLE \"temporary_conversations\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"subject\" varchar(998) NOT NULL, \"subjectKey\" varchar(255) NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"priority\" varchar(16), \"automated\" boolean NOT NULL DEFAULT (0), \"participants\" text NOT NULL, \"lastMessageAt\" datetime NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), \"slaDueAt\" datetime, \"assigneeId\" integer)");
    await queryRunner.query("INSERT INTO \"temporary_conversations\"(\"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\", \"slaDueAt\") SELECT \"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\", \"slaDueAt\" FROM \"conversations\"");
    await queryRunner.query("DROP TABLE \"conversations\"");
    await queryRunner.query("ALTER TABLE \"temporary_conversations\" RENAME TO \"conversations\"");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_subject\" ON \"conversations\" (\"mailboxId\", \"subjectKey\") ");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_last\" ON \"conversations\" (\"mailboxId\", \"lastMessageAt\") ");
    await queryRunner.query("CREATE TABLE \"temporary_users\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"email\" varchar(320) NOT NULL, \"role\" varchar(16) NOT NULL, \"passwordHash\" varchar(255), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"failedLogins\" integer NOT NULL DEFAULT (0), \"lockedUntil\" datetime, CONSTRAINT \"UQ_97672ac88f789774dd47f7c8be3\" UNIQUE (\"email\"))");
    await queryRunner.query("INSERT INTO \"temporary_users\"(\"id\", \"email\", \"role\", \"passwordHash\", \"createdAt\") SELECT \"id\", \"email\", \"role\", \"passwordHash\", \"createdAt\" FROM \"users\"");
    await queryRunner.query("DROP TABLE \"users\"");
    await queryRunner.query("ALTER TABLE \"temporary_users\" RENAME TO \"users\"");
    await queryRunner.query("DROP INDEX \"IDX_session_expiry\"");
    await queryRunner.query("CREATE TABLE \"temporary_sessions\" (\"id\" varchar(64) PRIMARY KEY NOT NULL, \"userId\" integer NOT NULL, \"expiresAt\" datetime NOT NULL, \"data\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"ip\" varchar(64), \"userAgent\" varchar(255), \"lastSeenAt\" datetime NOT NULL)");
    await queryRunner.query("INSERT INTO \"temporary_sessions\"(\"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\") SELECT \"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\" FROM \"sessions\"");
    await queryRunner.query("DROP TABLE \"sessions\"");
    await queryRunner.query("ALTER TABLE \"temporary_sessions\" RENAME TO \"sessions\"");
    await queryRunner.query("CREATE INDEX \"IDX_session_expiry\" ON \"sessions\" (\"expiresAt\") ");
    await queryRunner.query("DROP INDEX \"IDX_session_expiry\"");
    await queryRunner.query("CREATE TABLE \"temporary_sessions\" (\"id\" varchar(64) PRIMARY KEY NOT NULL, \"userId\" integer, \"expiresAt\" datetime NOT NULL, \"data\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"ip\" varchar(64), \"userAgent\" varchar(255), \"lastSeenAt\" datetime NOT NULL)");
    await queryRunner.query("INSERT INTO \"temporary_sessions\"(\"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\", \"ip\", \"userAgent\", \"lastSeenAt\") SELECT \"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\", \"ip\", \"userAgent\", \"lastSeenAt\" FROM \"sessions\"");
    await queryRunner.query("DROP TABLE \"sessions\"");
    await queryRunner.query("ALTER TABLE \"temporary_sessions\" RENAME TO \"sessions\"");
    await queryRunner.query("CREATE INDEX \"IDX_session_expiry\" ON \"sessions\" (\"expiresAt\") ");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_queue\" ON \"conversations\" (\"status\", \"mailboxId\", \"slaDueAt\") ");
    await queryRunner.query("CREATE INDEX \"IDX_session_user\" ON \"sessions\" (\"userId\") ");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"IDX_session_user\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_queue\"");
    await queryRunner.query("DROP INDEX \"IDX_session_expiry\"");
    await queryRunner.query("ALTER TABLE \"sessions\" RENAME TO \"temporary_sessions\"");
    await queryRunner.query("CREATE TABLE \"sessions\" (\"id\" varchar(64) PRIMARY KEY NOT NULL, \"userId\" integer NOT NULL, \"expiresAt\" datetime NOT NULL, \"data\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"ip\" varchar(64), \"userAgent\" varchar(255), \"lastSeenAt\" datetime NOT NULL)");
    await queryRunner.query("INSERT INTO \"sessions\"(\"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\", \"ip\", \"userAgent\", \"lastSeenAt\") SELECT \"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\", \"ip\", \"userAgent\", \"lastSeenAt\" FROM \"temporary_sessions\"");
    await queryRunner.query("DROP TABLE \"temporary_sessions\"");
    await queryRunner.query("CREATE INDEX \"IDX_session_expiry\" ON \"sessions\" (\"expiresAt\") ");
    await queryRunner.query("DROP INDEX \"IDX_session_expiry\"");
    await queryRunner.query("ALTER TABLE \"sessions\" RENAME TO \"temporary_sessions\"");
    await queryRunner.query("CREATE TABLE \"sessions\" (\"id\" varchar(64) PRIMARY KEY NOT NULL, \"userId\" integer NOT NULL, \"expiresAt\" datetime NOT NULL, \"data\" text NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')))");
    await queryRunner.query("INSERT INTO \"sessions\"(\"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\") SELECT \"id\", \"userId\", \"expiresAt\", \"data\", \"createdAt\" FROM \"temporary_sessions\"");
    await queryRunner.query("DROP TABLE \"temporary_sessions\"");
    await queryRunner.query("CREATE INDEX \"IDX_session_expiry\" ON \"sessions\" (\"expiresAt\") ");
    await queryRunner.query("ALTER TABLE \"users\" RENAME TO \"temporary_users\"");
    await queryRunner.query("CREATE TABLE \"users\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"email\" varchar(320) NOT NULL, \"role\" varchar(16) NOT NULL, \"passwordHash\" varchar(255), \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT \"UQ_97672ac88f789774dd47f7c8be3\" UNIQUE (\"email\"))");
    await queryRunner.query("INSERT INTO \"users\"(\"id\", \"email\", \"role\", \"passwordHash\", \"createdAt\") SELECT \"id\", \"email\", \"role\", \"passwordHash\", \"createdAt\" FROM \"temporary_users\"");
    await queryRunner.query("DROP TABLE \"temporary_users\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_last\"");
    await queryRunner.query("DROP INDEX \"IDX_conversation_subject\"");
    await queryRunner.query("ALTER TABLE \"conversations\" RENAME TO \"temporary_conversations\"");
    await queryRunner.query("CREATE TABLE \"conversations\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"mailboxId\" integer NOT NULL, \"subject\" varchar(998) NOT NULL, \"subjectKey\" varchar(255) NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('open'), \"priority\" varchar(16), \"automated\" boolean NOT NULL DEFAULT (0), \"participants\" text NOT NULL, \"lastMessageAt\" datetime NOT NULL, \"createdAt\" datetime NOT NULL DEFAULT (datetime('now')), \"updatedAt\" datetime NOT NULL DEFAULT (datetime('now')), \"slaDueAt\" datetime)");
    await queryRunner.query("INSERT INTO \"conversations\"(\"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\", \"slaDueAt\") SELECT \"id\", \"mailboxId\", \"subject\", \"subjectKey\", \"status\", \"priority\", \"automated\", \"participants\", \"lastMessageAt\", \"createdAt\", \"updatedAt\", \"slaDueAt\" FROM \"temporary_conversations\"");
    await queryRunner.query("DROP TABLE \"temporary_conversations\"");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_last\" ON \"conversations\" (\"mailboxId\", \"lastMessageAt\") ");
    await queryRunner.query("CREATE INDEX \"IDX_conversation_subject\" ON \"conversations\" (\"mailboxId\", \"subjectKey\") ");
    await queryRunner.query("DROP TABLE \"team_mailboxes\"");
    await queryRunner.query("DROP INDEX \"IDX_team_member_user\"");
    await queryRunner.query("DROP TABLE \"team_members\"");
    await queryRunner.query("DROP TABLE \"teams\"");
    await queryRunner.query("DROP INDEX \"IDX_note_conversation\"");
    await queryRunner.query("DROP TABLE \"notes\"");
    await queryRunner.query("DROP TABLE \"api_tokens\"");
    await queryRunner.query("DROP TABLE \"app_secrets\"");
  }
}
