import type { MigrationInterface, QueryRunner } from "typeorm";

export class JobQueueIndex1796553751289 implements MigrationInterface {
  name = "JobQueueIndex1796553751289";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX `IDX_job_claim` ON `jobs`");
    await queryRunner.query("CREATE INDEX `IDX_job_queue` ON `jobs` (`state`, `type`, `priority`, `runAt`)");
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX `IDX_job_queue` ON `jobs`");
    await queryRunner.query("CREATE INDEX `IDX_job_claim` ON `jobs` (`state`, `type`, `runAt`, `priority`)");
  }
}
