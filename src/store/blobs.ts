import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { BlobChunkRow, BlobRow } from "./entities/mail.js";

export const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** The bytes of a blob: its head, then any further chunks in order. */
export async function readBlob(em: EntityManager, blobId: number): Promise<Buffer> {
  const blob = await em.getRepository<BlobRow>("Blob").findOneByOrFail({ id: blobId });
  const parts = [Buffer.from(blob.head)];
  if (blob.chunks > 1) {
    const rows = await em.getRepository<BlobChunkRow>("BlobChunk").find({ where: { blobId }, order: { seq: "ASC" } });
    parts.push(...rows.map((r) => Buffer.from(r.data)));
  }
  return Buffer.concat(parts);
}
