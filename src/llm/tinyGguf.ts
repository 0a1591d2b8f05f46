/**
 * Writes a tiny random-weight llama-architecture GGUF (v3) that llama.cpp loads and runs: real
 * inference for tests and benchmarks without downloading weights. Its text is noise; grammar-constrained
 * output is still valid. Given real dimensions (e.g. a 1B llama's) it makes a realistic-size model for
 * throughput measurements, since speed does not depend on the weights' values.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { mulberry32 } from "../core/prng.js";

export interface TinyModelShape {
  vocabPadding: number; // total vocab size (padded with unused tokens)
  embd: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ff: number;
  contextLength: number;
  /** F32 (0) or F16 (1) matrices. */
  f16?: boolean;
  seed?: number;
}

export const TINY_SHAPE: TinyModelShape = { vocabPadding: 512, embd: 64, layers: 2, heads: 4, kvHeads: 4, ff: 256, contextLength: 4096 };

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

enum T {
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

class Writer {
  private chunks: Buffer[] = [];
  size = 0;
  push(b: Buffer) {
    this.chunks.push(b);
    this.size += b.length;
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string) {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.push(b);
  }
  take(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function vocabulary(size: number): { tokens: string[]; types: number[]; scores: number[] } {
  const tokens: string[] = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"];
  const types = [2, 3, 3, 3, 3];
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  tokens.push("▁");
  types.push(1);
  for (let c = 33; c < 127; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(1);
  }
  if (tokens.length > size) throw new Error(`vocab needs at least ${tokens.length} tokens`);
  for (let i = 0; tokens.length < size; i++) {
    tokens.push(`<unused${i}>`);
    types.push(5);
  }
  return { tokens, types, scores: tokens.map(() => 0) };
}


/** Writes the model to `path`, streaming tensor data (a 1B-shaped model never sits in memory whole). */
export function writeTinyGguf(path: string, shape: TinyModelShape = TINY_SHAPE): void {
  const { tokens, types, scores } = vocabulary(shape.vocabPadding);
  const headDim = shape.embd / shape.heads;
  const kvDim = headDim * shape.kvHeads;
  const matrix = shape.f16 ? 1 : 0;
  const tensors: { name: string; dims: number[]; type: number; fill: "one" | "rand" }[] = [
    { name: "token_embd.weight", dims: [shape.embd, tokens.length], type: matrix, fill: "rand" },
  ];
  for (let l = 0; l < shape.layers; l++) {
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [shape.embd], type: 0, fill: "one" },
      { name: `blk.${l}.attn_q.weight`, dims: [shape.embd, shape.embd], type: matrix, fill: "rand" },
      { name: `blk.${l}.attn_k.weight`, dims: [shape.embd, kvDim], type: matrix, fill: "rand" },
      { name: `blk.${l}.attn_v.weight`, dims: [shape.embd, kvDim], type: matrix, fill: "rand" },
      { name: `blk.${l}.attn_output.weight`, dims: [shape.embd, shape.embd], type: matrix, fill: "rand" },
      { name: `blk.${l}.ffn_norm.weight`, dims: [shape.embd], type: 0, fill: "one" },
      { name: `blk.${l}.ffn_gate.weight`, dims: [shape.embd, shape.ff], type: matrix, fill: "rand" },
      { name: `blk.${l}.ffn_up.weight`, dims: [shape.embd, shape.ff], type: matrix, fill: "rand" },
      { name: `blk.${l}.ffn_down.weight`, dims: [shape.ff, shape.embd], type: matrix, fill: "rand" },
    );
  }
  tensors.push(
    { name: "output_norm.weight", dims: [shape.embd], type: 0, fill: "one" },
    { name: "output.weight", dims: [shape.embd, tokens.length], type: matrix, fill: "rand" },
  );

  const h = new Writer();
  h.push(Buffer.from("GGUF"));
  h.u32(3);
  h.u64(tensors.length);
  const kv: [string, (w: Writer) => void][] = [
    ["general.architecture", (w) => (w.u32(T.STRING), w.str("llama"))],
    ["general.name", (w) => (w.u32(T.STRING), w.str("draftgate-tiny-random"))],
    ["general.alignment", (w) => (w.u32(T.U32), w.u32(32))],
    ["llama.context_length", (w) => (w.u32(T.U32), w.u32(shape.contextLength))],
    ["llama.embedding_length", (w) => (w.u32(T.U32), w.u32(shape.embd))],
    ["llama.block_count", (w) => (w.u32(T.U32), w.u32(shape.layers))],
    ["llama.feed_forward_length", (w) => (w.u32(T.U32), w.u32(shape.ff))],
    ["llama.attention.head_count", (w) => (w.u32(T.U32), w.u32(shape.heads))],
    ["llama.attention.head_count_kv", (w) => (w.u32(T.U32), w.u32(shape.kvHeads))],
    ["llama.rope.dimension_count", (w) => (w.u32(T.U32), w.u32(headDim))],
    ["llama.attention.layer_norm_rms_epsilon", (w) => (w.u32(T.F32), w.f32(1e-5))],
    ["tokenizer.ggml.model", (w) => (w.u32(T.STRING), w.str("llama"))],
    ["tokenizer.ggml.tokens", (w) => (w.u32(T.ARRAY), w.u32(T.STRING), w.u64(tokens.length), tokens.forEach((t) => w.str(t)))],
    ["tokenizer.ggml.scores", (w) => (w.u32(T.ARRAY), w.u32(T.F32), w.u64(scores.length), scores.forEach((s) => w.f32(s)))],
    ["tokenizer.ggml.token_type", (w) => (w.u32(T.ARRAY), w.u32(T.I32), w.u64(types.length), types.forEach((t) => w.i32(t)))],
    ["tokenizer.ggml.bos_token_id", (w) => (w.u32(T.U32), w.u32(1))],
    ["tokenizer.ggml.eos_token_id", (w) => (w.u32(T.U32), w.u32(4))],
    ["tokenizer.ggml.unknown_token_id", (w) => (w.u32(T.U32), w.u32(0))],
    ["tokenizer.ggml.add_bos_token", (w) => (w.u32(T.BOOL), w.push(Buffer.from([1])))],
    ["tokenizer.chat_template", (w) => (w.u32(T.STRING), w.str(CHATML))],
  ];
  h.u64(kv.length);
  for (const [key, write] of kv) {
    h.str(key);
    write(h);
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    h.str(t.name);
    h.u32(t.dims.length);
    t.dims.forEach((d) => h.u64(d));
    h.u32(t.type);
    h.u64(offset);
    const bytes = t.dims.reduce((a, b) => a * b, 1) * (t.type === 1 ? 2 : 4);
    sizes.push(bytes);
    offset += Math.ceil(bytes / 32) * 32;
  }
  const header = h.take();
  const fd = openSync(path, "w");
  try {
    writeSync(fd, header);
    const pad = (n: number) => (n % 32 === 0 ? 0 : 32 - (n % 32));
    writeSync(fd, Buffer.alloc(pad(header.length)));
    const random = mulberry32(shape.seed ?? 42);
    tensors.forEach((t, i) => {
      const count = sizes[i]! / (t.type === 1 ? 2 : 4);
      const CHUNK = 1 << 20;
      for (let start = 0; start < count; start += CHUNK) {
        const n = Math.min(CHUNK, count - start);
        const buf = Buffer.alloc(n * (t.type === 1 ? 2 : 4));
        for (let k = 0; k < n; k++) {
          const v = t.fill === "one" ? 1 : (random() - 0.5) * 0.2;
          if (t.type === 1) buf.writeUInt16LE(toHalf(v), k * 2);
          else buf.writeFloatLE(v, k * 4);
        }
        writeSync(fd, buf);
      }
      writeSync(fd, Buffer.alloc(pad(sizes[i]!)));
    });
  } finally {
    closeSync(fd);
  }
}

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = (x >>> 13) & 0x3ff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | mant;
}
