import { ProtocolError } from "../errors.js";
import { readNsAsMs } from "./clock.js";
import {
  BATCH_HEADER_BYTES,
  EndKind,
  FRAME_HEADER_BYTES,
  HELLO_FIXED_BYTES,
  MAGIC,
  MAX_END_TEXT_BYTES,
  MAX_NAME_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  RECORD_FLAG_DATA,
  RECORD_FLAG_VALUES,
  RECORD_HEADER_BYTES,
  RECORD_LENGTH_OFFSET,
  RECORD_LEVEL_MASK,
  RECORD_LEVEL_OFFSET,
  SHUTDOWN_FIXED_BYTES,
} from "./constants.js";
import { requireBody } from "./frame-reader.js";
import { RecordBatch, type RecordSource } from "./record-batch.js";
import { readU64 } from "./u64.js";
import { skipSection } from "./value-reader.js";

const MAX_LEVEL_VALUE = 5;
/** Bits of the level byte that version 3 defines; any other bit set is a protocol error. */
const KNOWN_LEVEL_BITS = RECORD_FLAG_DATA | RECORD_FLAG_VALUES | RECORD_LEVEL_MASK;

export interface Hello {
  version: number;
  pid: number;
  /** Hex of the 8-byte instance id. */
  instanceId: string;
  heartbeatIntervalMs: number;
  name: string;
  nameBytes: Buffer;
}

export function decodeHello(frame: Buffer): Hello {
  if (frame.length < FRAME_HEADER_BYTES + HELLO_FIXED_BYTES) {
    throw new ProtocolError("HELLO frame is shorter than its fixed fields");
  }
  const at = FRAME_HEADER_BYTES;
  if (frame.readUInt32LE(at) !== MAGIC) throw new ProtocolError("HELLO does not start with the LMUX magic");
  const version = frame.readUInt16LE(at + 4);
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `unsupported protocol version ${version} (this master speaks ${PROTOCOL_VERSION})`,
    );
  }
  const nameLength = frame.readUInt16LE(at + 24);
  if (nameLength > MAX_NAME_BYTES) throw new ProtocolError(`worker name of ${nameLength} bytes is too long`);
  requireBody(frame, HELLO_FIXED_BYTES + nameLength, "HELLO");
  const nameBytes = Buffer.from(frame.subarray(at + HELLO_FIXED_BYTES, at + HELLO_FIXED_BYTES + nameLength));
  const heartbeatIntervalMs = frame.readUInt32LE(at + 20);
  if (heartbeatIntervalMs === 0) throw new ProtocolError("HELLO heartbeat interval is 0");
  return {
    version,
    pid: frame.readUInt32LE(at + 8),
    instanceId: frame.toString("hex", at + 12, at + 20),
    heartbeatIntervalMs,
    name: nameBytes.toString("utf8"),
    nameBytes,
  };
}

/**
 * Validates a BATCH frame completely (every length inside the frame, every level byte, no trailing
 * bytes) before any record is used, and indexes its records.
 */
export function decodeBatch(frame: Buffer, source: RecordSource): { seq: number; batch: RecordBatch } {
  if (frame.length < BATCH_HEADER_BYTES) throw new ProtocolError("BATCH frame is shorter than its header");
  const seq = readU64(frame, FRAME_HEADER_BYTES);
  const count = frame.readUInt32LE(FRAME_HEADER_BYTES + 8);
  // Each record takes at least RECORD_HEADER_BYTES, which bounds the index we allocate by the
  // frame's real size rather than by the count the sender claims.
  if (count > (frame.length - BATCH_HEADER_BYTES) / RECORD_HEADER_BYTES) {
    throw new ProtocolError(`BATCH claims ${count} records, more than its ${frame.length} bytes can hold`);
  }
  const offsets = new Uint32Array(count);
  const end = frame.length;
  // Indexing a Buffer costs over twice what a plain Uint8Array does on Node 20 (see ByteSink.memory),
  // and this loop runs once per record the master receives.
  const bytes = new Uint8Array(frame.buffer, frame.byteOffset, end);
  const words = new DataView(frame.buffer, frame.byteOffset, end);
  let pos = BATCH_HEADER_BYTES;
  let minLevel = MAX_LEVEL_VALUE;
  let maxLevel = 0;
  for (let i = 0; i < count; i++) {
    if (end - pos < RECORD_HEADER_BYTES) throw new ProtocolError(`record ${i} is truncated`);
    const levelByte = bytes[pos + RECORD_LEVEL_OFFSET]!;
    const level = levelByte & RECORD_LEVEL_MASK;
    if ((levelByte & ~KNOWN_LEVEL_BITS) !== 0 || level > MAX_LEVEL_VALUE) {
      throw new ProtocolError(`record ${i} has invalid level byte 0x${levelByte.toString(16)}`);
    }
    const messageBytes = words.getUint32(pos + RECORD_LENGTH_OFFSET, true);
    let next = pos + RECORD_HEADER_BYTES + messageBytes;
    if (next > end) throw new ProtocolError(`record ${i} message length ${messageBytes} runs past the frame`);
    if ((levelByte & RECORD_FLAG_DATA) !== 0) {
      if (end - next < 4) throw new ProtocolError(`record ${i} attachment length is truncated`);
      const dataBytes = words.getUint32(next, true);
      next += 4 + dataBytes;
      if (next > end)
        throw new ProtocolError(`record ${i} attachment length ${dataBytes} runs past the frame`);
    }
    if ((levelByte & RECORD_FLAG_VALUES) !== 0) {
      if (end - next < 4) throw new ProtocolError(`record ${i} values length is truncated`);
      const valuesBytes = words.getUint32(next, true);
      const valuesEnd = next + 4 + valuesBytes;
      if (valuesEnd > end)
        throw new ProtocolError(`record ${i} values length ${valuesBytes} runs past the frame`);
      skipSection(bytes, next + 4, valuesEnd, `record ${i}`);
      next = valuesEnd;
    }
    offsets[i] = pos;
    if (level < minLevel) minLevel = level;
    if (level > maxLevel) maxLevel = level;
    pos = next;
  }
  if (pos !== end) throw new ProtocolError(`BATCH has ${end - pos} bytes after its ${count} records`);
  return { seq, batch: new RecordBatch(frame, offsets, count, source, minLevel, maxLevel) };
}

export interface Heartbeat {
  /** The worker's clock when it sent the heartbeat, ms since the epoch. */
  workerTimeMs: number;
  /** How long until the worker's next check-in, ms. */
  nextCheckInMs: number;
}

export function decodeHeartbeat(frame: Buffer): Heartbeat {
  requireBody(frame, 12, "HEARTBEAT");
  return {
    workerTimeMs: readNsAsMs(frame, FRAME_HEADER_BYTES),
    nextCheckInMs: frame.readUInt32LE(FRAME_HEADER_BYTES + 8),
  };
}

/** SHUTDOWN: the worker's last seq and how it ended. */
export interface Shutdown {
  lastSeq: number;
  kind: EndKind;
  detail: number;
  text: string;
}

export function decodeShutdown(frame: Buffer): Shutdown {
  const at = FRAME_HEADER_BYTES;
  if (frame.length < at + SHUTDOWN_FIXED_BYTES) {
    throw new ProtocolError("SHUTDOWN frame is shorter than its fixed fields");
  }
  const kind = frame[at + 8]!;
  if (kind > EndKind.UNCAUGHT) throw new ProtocolError(`SHUTDOWN with unknown end kind ${kind}`);
  const textLength = frame.readUInt16LE(at + 13);
  if (textLength > MAX_END_TEXT_BYTES)
    throw new ProtocolError(`SHUTDOWN text of ${textLength} bytes is too long`);
  requireBody(frame, SHUTDOWN_FIXED_BYTES + textLength, "SHUTDOWN");
  return {
    lastSeq: readU64(frame, at),
    kind: kind as EndKind,
    detail: frame.readInt32LE(at + 9),
    text: frame.toString("utf8", at + SHUTDOWN_FIXED_BYTES, at + SHUTDOWN_FIXED_BYTES + textLength),
  };
}

export { decodeU64Message, decodeWelcome, FrameReader, frameText, frameType } from "./frame-reader.js";
export { MessageType };
