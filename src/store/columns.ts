import type { EntitySchemaColumnOptions } from "typeorm";

/**
 * Portable column helpers (n8n style): the same entity reads the same on SQLite and MariaDB/MySQL.
 * Dialect quirks that bite, per the notes: plain `datetime` drops milliseconds on MariaDB; `text` is
 * 64 KiB there; `blob` is 64 KiB and `longblob` does not exist on SQLite.
 */
export type Dialect = "sqlite" | "mysql";

export function columns(dialect: Dialect) {
  const mysql = dialect === "mysql";
  return {
    id: (): EntitySchemaColumnOptions => ({ type: "integer", primary: true, generated: "increment" }),
    int: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({ type: "integer", ...extra }),
    bigint: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({
      type: "bigint",
      transformer: { to: (v: number | null) => v, from: (v: string | number | null) => (v === null ? null : Number(v)) },
      ...extra,
    }),
    string: (length: number, extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({
      type: "varchar",
      length,
      ...extra,
    }),
    /** Up to 16 MiB of text (bodies, sanitized HTML). */
    text: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({
      type: mysql ? "mediumtext" : "text",
      ...extra,
    }),
    double: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({ type: mysql ? "double" : "real", ...extra }),
    bool: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({ type: "boolean", ...extra }),
    /** Millisecond datetimes on both dialects. */
    date: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => {
      const auto = extra.createDate || extra.updateDate;
      // TypeORM defaults create/update dates to CURRENT_TIMESTAMP(6), which then drifts from datetime(3).
      const mysqlAuto = auto
        ? { default: () => "CURRENT_TIMESTAMP(3)", ...(extra.updateDate ? { onUpdate: "CURRENT_TIMESTAMP(3)" } : {}) }
        : {};
      return { type: "datetime", ...(mysql ? { precision: 3, ...mysqlAuto } : {}), ...extra };
    },
    /** JSON kept as text with our own (de)serializer, so raw queries read the same on both dialects. */
    json: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({
      type: mysql ? "mediumtext" : "text",
      transformer: {
        to: (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v)),
        from: (v: string | null) => (v === null || v === undefined ? null : (JSON.parse(v) as unknown)),
      },
      ...extra,
    }),
    /** One chunk of a blob; chunks stay far below MariaDB's default max_allowed_packet even as hex. */
    binary: (extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({
      type: mysql ? "mediumblob" : "blob",
      ...extra,
    }),
  };
}

/** Bytes per blob chunk: mysql2 sends a Buffer as hex (2×), well under a 16 MiB packet limit. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;
