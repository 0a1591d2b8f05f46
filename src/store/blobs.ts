import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";
import { BLOB_CHUNK_BYTES } from "./columns.js";
import type { BlobChunkRow, BlobRow } from "./entities/mail.js";
import { dbDate, insertReturningId, run, select } from "./sql.js";

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

/**
 * Stores bytes by content (an existing blob with the same sha256 is reused); returns the blob id. One
 * blob at a time, for writers outside intake (intake batches its blob writes in IntakeBatch).
 */
export async function writeBlob(em: EntityManager, bytes: Buffer): Promise<number> {
  const digest = sha256(bytes);
  const known = await select<{ id: number }>(em, "SELECT `id` FROM `blobs` WHERE `sha256` = ?", [digest]);
  if (known[0]) return Number(known[0].id);
  const chunks = Math.max(1, Math.ceil(bytes.length / BLOB_CHUNK_BYTES));
  const id = await insertReturningId(em, "INSERT INTO `blobs` (`sha256`, `size`, `chunks`, `head`, `createdAt`) VALUES (?, ?, ?, ?, ?)", [
    digest,
    bytes.length,
    chunks,
    bytes.subarray(0, BLOB_CHUNK_BYTES),
    dbDate(new Date()),
  ]);
  for (let seq = 1; seq < chunks; seq++) {
    await run(em, "INSERT INTO `blob_chunks` (`blobId`, `seq`, `data`) VALUES (?, ?, ?)", [
      id,
      seq,
      bytes.subarray(seq * BLOB_CHUNK_BYTES, (seq + 1) * BLOB_CHUNK_BYTES),
    ]);
  }
  return id;
}
