import { createReadStream } from "node:fs";
import { DraftgateError } from "../../core/errors.js";
import type { ImportItem } from "./types.js";

const FROM_ = Buffer.from("From ");

export class NotAnMboxError extends DraftgateError {
  constructor(message: string) {
    super("ENOTMBOX", message);
  }
}

/**
 * Splits an mbox file (RFC 4155; mboxo and mboxrd) into messages, streaming. A message starts at a
 * "From " line at the start of the file, or at a "From <sender> … <year>" line after a blank line;
 * ">From " quoting is undone on the way.
 * (node-mbox does neither the blank-line rule nor the unquoting, so this is our own.)
 */
export async function* readMbox(path: string): AsyncGenerator<ImportItem> {
  let carry: Buffer = Buffer.alloc(0);
  let lines: Buffer[] = [];
  let started = false;
  let prevBlank = true;
  let index = 0;
  let offset = 0;
  let messageOffset = 0;
  let consumed = 0;
  const done: ImportItem[] = [];

  const finish = () => {
    if (!started) return;
    // The blank line before the next "From " separates messages; it is not part of the message.
    const last = lines[lines.length - 1];
    if (last && isBlank(last)) lines.pop();
    done.push({ raw: Buffer.concat(lines), sourceRef: `mbox:${path}#${index}@${messageOffset}`, bytesRead: consumed });
    index++;
    lines = [];
  };

  const onLine = (line: Buffer) => {
    const isFrom = line.length >= 5 && line.subarray(0, 5).equals(FROM_);
    if (isFrom && (!started || (prevBlank && isSeparator(line)))) {
      finish();
      started = true;
      messageOffset = offset;
    } else if (!started) {
      if (!isBlank(line)) throw new NotAnMboxError(`${path} is not an mbox file (no "From " line first)`);
    } else {
      lines.push(unquoteFrom(line));
    }
    prevBlank = isBlank(line);
    offset += line.length;
  };

  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf: Buffer = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      onLine(buf.subarray(start, nl + 1));
      start = nl + 1;
    }
    consumed += (chunk as Buffer).length;
    carry = Buffer.from(buf.subarray(start));
    yield* done.splice(0);
  }
  if (carry.length) onLine(carry);
  finish();
  yield* done.splice(0);
}

/**
 * A From_ line is "From <sender> <date>": requiring a year keeps an unquoted "From here…" body line
 * after a blank line (mboxo writers quote only sometimes) from splitting a message.
 */
function isSeparator(line: Buffer): boolean {
  return /^From \S+\s.*\b\d{4}\b/.test(line.subarray(0, 200).toString("latin1"));
}

function isBlank(line: Buffer): boolean {
  return line.length === 0 || (line.length === 1 && line[0] === 10) || (line.length === 2 && line[0] === 13 && line[1] === 10);
}

/** mboxrd: ">From ", ">>From " … lose one ">" (mboxo quoting is the one-">" case of the same rule). */
function unquoteFrom(line: Buffer): Buffer {
  if (line[0] !== 0x3e) return line;
  let i = 0;
  while (line[i] === 0x3e) i++;
  return line.subarray(i, i + 5).equals(FROM_) ? line.subarray(1) : line;
}

/** True when the file starts like an mbox ("From " on the first line). */
export function looksLikeMbox(head: Buffer): boolean {
  return head.subarray(0, 5).equals(FROM_);
}
