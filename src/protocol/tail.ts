// The tail frames (docs/protocol.md, "Tail"): TAIL_QUERY from a tail client, TAIL_RECORDS,
// TAIL_SKIPPED and TAIL_LIVE from the master. Records travel as the bytes of the worker's BATCH, so
// the client formats them with the master's own formatters.
import { ProtocolError } from "../errors.js";
import { BATCH_HEADER_BYTES, FRAME_HEADER_BYTES, MAX_NAME_BYTES, MessageType } from "./constants.js";
import { decodeBatch } from "./decoder.js";
import type { RecordBatch } from "./record-batch.js";
import { readU64, writeU64 } from "./u64.js";

/** What a tail client asks for; the master checks every field (unknown ones are refused). */
export interface TailQuery {
  /** Lowest level sent (the config's baseLevel still applies). */
  level: number;
  /** Worker-name globs (`*`, `?`); a record matches when its worker matches any. Empty: all. */
  workers: string[];
  /** Field equalities that must all hold (see `valueEquals` in src/master/tail-filter.ts). */
  where: [string, string][];
  /** How many of the kept records (the ring) to send first, newest last. */
  last: number;
  /** Only kept records at most this many ms old; 0 for no age limit. */
  sinceMs: number;
  /** Keep the connection and send live records after the kept ones. */
  follow: boolean;
}

const QUERY_KEYS = new Set(["level", "workers", "where", "last", "sinceMs", "follow"]);
/** Bounds on what a query may hold; it must fit in a frame from an unidentified peer anyway. */
const MAX_PATTERNS = 64;

export function encodeTailQuery(query: TailQuery): Buffer {
  const body = Buffer.from(JSON.stringify(query), "utf8");
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  buf.writeUInt32LE(1 + body.length, 0);
  buf[4] = MessageType.TAIL_QUERY;
  body.copy(buf, FRAME_HEADER_BYTES);
  return buf;
}

/** Parses and checks a TAIL_QUERY; a ProtocolError names the first field it refuses. */
export function decodeTailQuery(frame: Buffer): TailQuery {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString("utf8", FRAME_HEADER_BYTES));
  } catch {
    throw new ProtocolError("TAIL_QUERY is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ProtocolError("TAIL_QUERY must be a JSON object");
  }
  const q = value as Record<string, unknown>;
  // A key this master does not know is a filter it would silently not apply: refused.
  for (const key of Object.keys(q)) {
    if (!QUERY_KEYS.has(key)) throw new ProtocolError(`TAIL_QUERY has unknown field "${key}"`);
  }
  const int = (key: string, max: number): number => {
    const n = q[key];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
      throw new ProtocolError(`TAIL_QUERY ${key} must be a whole number from 0 to ${max}`);
    }
    return n;
  };
  const strings = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || v.length > MAX_PATTERNS || v.some((s) => typeof s !== "string")) {
      throw new ProtocolError(`TAIL_QUERY ${what} must be an array of at most ${MAX_PATTERNS} strings`);
    }
    return v as string[];
  };
  const where = q.where;
  if (!Array.isArray(where) || where.length > MAX_PATTERNS) {
    throw new ProtocolError(`TAIL_QUERY where must be an array of at most ${MAX_PATTERNS} pairs`);
  }
  for (const pair of where) {
    if (strings(pair, "where pair").length !== 2 || pair[0] === "") {
      throw new ProtocolError("TAIL_QUERY where pairs must be [non-empty key, value]");
    }
  }
  if (typeof q.follow !== "boolean") throw new ProtocolError("TAIL_QUERY follow must be a boolean");
  return {
    level: int("level", 5),
    workers: strings(q.workers, "workers"),
    where: where as [string, string][],
    last: int("last", 2 ** 31),
    sinceMs: int("sinceMs", 2 ** 52),
    follow: q.follow,
  };
}

/** Where record `i` of `batch` ends: records are contiguous, the last one ends the frame. */
function recordEnd(batch: RecordBatch, i: number): number {
  return i + 1 < batch.count ? batch.offsets[i + 1]! : batch.buffer.length;
}

/**
 * TAIL_RECORDS body: u32 pid, u16 name length, the worker's name, u32 count, then the records
 * exactly as the BATCH carried them. `indices` are record indices of `batch`, ascending.
 */
export function encodeTailRecords(batch: RecordBatch, indices: readonly number[]): Buffer {
  const name = batch.source.nameBytes;
  let bytes = 0;
  for (const i of indices) bytes += recordEnd(batch, i) - batch.offsets[i]!;
  const body = 4 + 2 + name.length + 4 + bytes;
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body);
  buf.writeUInt32LE(1 + body, 0);
  buf[4] = MessageType.TAIL_RECORDS;
  let at = FRAME_HEADER_BYTES;
  buf.writeUInt32LE(batch.source.pid >>> 0, at);
  buf.writeUInt16LE(name.length, at + 4);
  name.copy(buf, at + 6);
  at += 6 + name.length;
  buf.writeUInt32LE(indices.length, at);
  at += 4;
  // Runs of consecutive records are copied in one go: usually the whole batch is one run.
  for (let k = 0; k < indices.length; ) {
    const first = indices[k]!;
    let last = first;
    while (k + 1 < indices.length && indices[k + 1] === last + 1) last = indices[++k]!;
    k++;
    at += batch.buffer.copy(buf, at, batch.offsets[first]!, recordEnd(batch, last));
  }
  return buf;
}

/** Decodes and validates a TAIL_RECORDS frame into a batch the formatters read. */
export function decodeTailRecords(frame: Buffer): RecordBatch {
  const at = FRAME_HEADER_BYTES;
  if (frame.length < at + 6) throw new ProtocolError("TAIL_RECORDS is shorter than its header");
  const pid = frame.readUInt32LE(at);
  const nameLength = frame.readUInt16LE(at + 4);
  const recordsAt = at + 6 + nameLength + 4;
  if (nameLength > MAX_NAME_BYTES || frame.length < recordsAt) {
    throw new ProtocolError("TAIL_RECORDS name runs past the frame");
  }
  const nameBytes = Buffer.from(frame.subarray(at + 6, at + 6 + nameLength));
  // Rebuilt as a BATCH (seq 0) so the one validating decoder checks every record.
  const batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + frame.length - recordsAt);
  batch.writeUInt32LE(batch.length - 4, 0);
  batch[4] = MessageType.BATCH;
  writeU64(batch, 0, FRAME_HEADER_BYTES);
  batch.writeUInt32LE(frame.readUInt32LE(recordsAt - 4), FRAME_HEADER_BYTES + 8);
  frame.copy(batch, BATCH_HEADER_BYTES, recordsAt);
  return decodeBatch(batch, { name: nameBytes.toString("utf8"), nameBytes, pid }).batch;
}

/** TAIL_SKIPPED: u64 records skipped (matching the query) since the previous TAIL_SKIPPED. */
export function encodeTailSkipped(skipped: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8);
  buf.writeUInt32LE(9, 0);
  buf[4] = MessageType.TAIL_SKIPPED;
  writeU64(buf, skipped, FRAME_HEADER_BYTES);
  return buf;
}

export function decodeTailSkipped(frame: Buffer): number {
  if (frame.length !== FRAME_HEADER_BYTES + 8) throw new ProtocolError("TAIL_SKIPPED must carry 8 bytes");
  return readU64(frame, FRAME_HEADER_BYTES);
}

/** TAIL_LIVE (empty): every kept record asked for has been sent; what follows is live. */
export function encodeTailLive(): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  buf.writeUInt32LE(1, 0);
  buf[4] = MessageType.TAIL_LIVE;
  return buf;
}
