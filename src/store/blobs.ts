import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";
import { BLOB_CHUNK_BYTES } from "./columns.js";
import type { BlobChunkRow, BlobRow } from "./entities/mail.js";

export const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** Stores bytes once by content (sha256) in chunks; returns the blob id. Must run inside a transaction. */
export async function putBlob(em: EntityManager, bytes: Uint8Array, digest = sha256(bytes)): Promise<number> {
  const blobs = em.getRepository<BlobRow>("Blob");
  const existing = await blobs.findOne({ where: { sha256: digest }, select: { id: true } });
  if (existing) return existing.id;
  const chunks = Math.max(1, Math.ceil(bytes.length / BLOB_CHUNK_BYTES));
  const inserted = await blobs.insert({ sha256: digest, size: bytes.length, chunks });
  const id = Number(inserted.identifiers[0]!.id);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let seq = 0; seq < chunks; seq++) {
    const data = buf.subarray(seq * BLOB_CHUNK_BYTES, (seq + 1) * BLOB_CHUNK_BYTES);
    await em.getRepository<BlobChunkRow>("BlobChunk").insert({ blobId: id, seq, data });
  }
  return id;
}

export async function readBlob(em: EntityManager, blobId: number): Promise<Buffer> {
  const rows = await em.getRepository<BlobChunkRow>("BlobChunk").find({ where: { blobId }, order: { seq: "ASC" } });
  return Buffer.concat(rows.map((r) => Buffer.from(r.data)));
}
