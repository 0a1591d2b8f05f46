import type { MigrationInterface } from "typeorm";

/** A migration class, as the per-dialect lists in ./mysql and ./sqlite hold them. */
export type MigrationClass = new () => MigrationInterface;
