/**
 * Writes a migration for the schema drift between the entities and the migrations so far.
 * Usage (dev only): DATABASE_URL=… npx tsx src/store/migrations/generate.ts Name
 * Run it once per dialect: against a scratch SQLite file and against a scratch MariaDB database.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDataSource, parseDatabaseUrl } from "../dataSource.js";
import { packageRoot } from "../../config/paths.js";

const name = process.argv[2];
const url = process.env.DATABASE_URL;
if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name) || !url) {
  console.error("usage: DATABASE_URL=… tsx src/store/migrations/generate.ts PascalCaseName");
  process.exit(2);
}
const { dialect } = parseDatabaseUrl(url);
const ds = await buildDataSource(url);
await ds.initialize();
await ds.runMigrations({ transaction: "each" });
const sql = await ds.driver.createSchemaBuilder().log();
await ds.destroy();
if (sql.upQueries.length === 0) {
  console.log("no changes: entities and migrations agree");
  process.exit(0);
}
const stamp = Date.now();
const cls = `${name}${stamp}`;
const q = (s: string) => JSON.stringify(s);
const render = (list: { query: string; parameters?: unknown[] }[]) =>
  list.map((x) => `    await queryRunner.query(${q(x.query)}${x.parameters?.length ? `, ${JSON.stringify(x.parameters)}` : ""});`).join("\n");
const body = `import type { MigrationInterface, QueryRunner } from "typeorm";

export class ${cls} implements MigrationInterface {
  name = ${q(cls)};

  public async up(queryRunner: QueryRunner): Promise<void> {
${render(sql.upQueries)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${render([...sql.downQueries].reverse())}
  }
}
`;
const dir = join(packageRoot, "src", "store", "migrations", dialect);
const file = `${stamp}-${name}.ts`;
writeFileSync(join(dir, file), body);
const indexPath = join(dir, "index.ts");
let index = readFileSync(indexPath, "utf8");
const exportName = `${dialect}Migrations`;
index = `import { ${cls} } from "./${stamp}-${name}.js";\n` + index;
index = index.replace(new RegExp(`(export const ${exportName}: MigrationClass\\[\\] = \\[)([^\\]]*)\\]`), (_m, head: string, items: string) => {
  const list = items.trim() ? `${items.trim().replace(/,$/, "")}, ${cls}` : cls;
  return `${head}${list}]`;
});
writeFileSync(indexPath, index);
console.log(`wrote ${join(dir, file)}`);
