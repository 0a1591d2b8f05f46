import type { MigrationInterface, QueryRunner } from "typeorm";

export class OutboxRecipients1796031019479 implements MigrationInterface {
  name = "OutboxRecipients1796031019479";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"outbox_recipients\" (\"outboxId\" integer NOT NULL, \"recipientKey\" varchar(320) NOT NULL, PRIMARY KEY (\"outboxId\", \"recipientKey\"))");
    await queryRunner.query("CREATE INDEX \"IDX_outbox_recipient_key\" ON \"outbox_recipients\" (\"recipientKey\", \"outboxId\") ");
    // Entries sent (or being sent) before this migration: their recipients, so the cap still counts them.
    const rows = (await queryRunner.query("SELECT `id`, `to`, `cc` FROM `outbox` WHERE `state` IN ('sent', 'sending')")) as {
      id: number;
      to: string;
      cc: string;
    }[];
    for (const r of rows) {
      const all = [...(JSON.parse(r.to) as { address?: string }[]), ...(JSON.parse(r.cc) as { address?: string }[])];
      for (const key of new Set(all.map((a) => String(a.address ?? "").trim().toLowerCase())))
        await queryRunner.query("INSERT INTO `outbox_recipients` (`outboxId`, `recipientKey`) VALUES (?, ?)", [r.id, key]);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"IDX_outbox_recipient_key\"");
    await queryRunner.query("DROP TABLE \"outbox_recipients\"");
  }
}
