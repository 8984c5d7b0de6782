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
import { RecordBatch, type RecordSource } from "./record-batch.js";
import { readU64 } from "./u64.js";
import { skipSection } from "./value-reader.js";

const LENGTH_BYTES = 4;
const MAX_LEVEL_VALUE = 5;
/** Bits of the level byte that version 3 defines; any other bit set is a protocol error. */
const KNOWN_LEVEL_BITS = RECORD_FLAG_DATA | RECORD_FLAG_VALUES | RECORD_LEVEL_MASK;

/**
 * Splits a byte stream into frames. Every length is checked against the reader's current limit
 * before anything is allocated for it, so a 4 GiB length field costs nothing but the error. A frame
 * that arrives whole inside one chunk is handed on as a view of that chunk (no copy); a frame split
 * across chunks is assembled into a buffer of its own, which grows as the frame's bytes arrive
 * rather than being sized by the length the peer claims (see {@link assemblyCapacity}).
 *
 * The limit is `maxFrameBytes`, or lower (`limitUntilIdentified`) until {@link identified} is
 * called: a peer that has not said who it is gets no more than its first frame needs.
 *
 * `onFrame` receives the whole frame, header included: offset 4 holds the type.
 * After the first error the reader refuses all further input.
 */
export class FrameReader {
  readonly #maxFrameBytes: number;
  readonly #onFrame: (frame: Buffer) => void;
  readonly #header = Buffer.allocUnsafe(LENGTH_BYTES);
  #limit: number;
  #headerBytes = 0;
  /** Assembly buffer of the incomplete frame; may be shorter than the frame, never longer than its class. */
  #partial: Buffer | null = null;
  #partialBytes = 0;
  /** Total size of the frame being assembled, header included; 0 when none is. */
  #frameBytes = 0;
  #failed = false;

  constructor(maxFrameBytes: number, onFrame: (frame: Buffer) => void, limitUntilIdentified = maxFrameBytes) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#onFrame = onFrame;
    this.#limit = Math.min(limitUntilIdentified, maxFrameBytes);
  }

  /**
   * Raises the limit to `maxFrameBytes`. It takes effect from the next length read, so a frame
   * later in the chunk that held the identifying frame is already judged by the new limit.
   */
  identified(): void {
    this.#limit = this.#maxFrameBytes;
  }

  /** Bytes held for a frame not yet complete (what a slow sender costs us). */
  get bufferedBytes(): number {
    return this.#partialBytes + this.#headerBytes;
  }

  /** Bytes allocated for the frame not yet complete: what the peer's claimed length has cost so far. */
  get reservedBytes(): number {
    return this.#partial === null ? 0 : this.#partial.length;
  }

  /** Throws {@link ProtocolError} on a bad length; errors thrown by `onFrame` propagate too. */
  push(chunk: Buffer): void {
    if (this.#failed) throw new ProtocolError("input after a protocol error");
    try {
      this.#push(chunk);
    } catch (error) {
      this.#failed = true;
      this.#partial = null;
      this.#partialBytes = 0;
      this.#frameBytes = 0;
      this.#headerBytes = 0;
      throw error;
    }
  }

  #push(chunk: Buffer): void {
    const length = chunk.length;
    let pos = 0;
    while (pos < length) {
      const frameBytes = this.#frameBytes;
      if (frameBytes > 0) {
        const take = Math.min(frameBytes - this.#partialBytes, length - pos);
        const partial = this.#reserve(this.#partialBytes + take);
        chunk.copy(partial, this.#partialBytes, pos, pos + take);
        this.#partialBytes += take;
        pos += take;
        if (this.#partialBytes === frameBytes) {
          this.#partial = null;
          this.#partialBytes = 0;
          this.#frameBytes = 0;
          this.#onFrame(partial.length === frameBytes ? partial : partial.subarray(0, frameBytes));
        }
        continue;
      }
      if (this.#headerBytes > 0 || length - pos < LENGTH_BYTES) {
        const take = Math.min(LENGTH_BYTES - this.#headerBytes, length - pos);
        chunk.copy(this.#header, this.#headerBytes, pos, pos + take);
        this.#headerBytes += take;
        pos += take;
        if (this.#headerBytes < LENGTH_BYTES) return;
        this.#headerBytes = 0;
        this.#frameBytes = LENGTH_BYTES + this.#checkLength(this.#header.readUInt32LE(0));
        this.#header.copy(this.#reserve(LENGTH_BYTES), 0);
        this.#partialBytes = LENGTH_BYTES;
        continue;
      }
      const total = LENGTH_BYTES + this.#checkLength(chunk.readUInt32LE(pos));
      if (length - pos >= total) {
        this.#onFrame(chunk.subarray(pos, pos + total));
        pos += total;
      } else {
        // The loop's first branch takes it from here: it reserves room for what this chunk holds.
        this.#frameBytes = total;
      }
    }
  }

  /** The assembly buffer, grown if needed so that it holds at least `bytes`. */
  #reserve(bytes: number): Buffer {
    const partial = this.#partial;
    if (partial !== null && partial.length >= bytes) return partial;
    const grown = Buffer.allocUnsafe(assemblyCapacity(this.#frameBytes, partial?.length ?? 0, bytes));
    if (partial !== null) partial.copy(grown, 0, 0, this.#partialBytes);
    this.#partial = grown;
    return grown;
  }

  #checkLength(body: number): number {
    if (body < 1) throw new ProtocolError("frame with an empty body (no type byte)");
    if (body > this.#limit) {
      throw new ProtocolError(
        this.#limit < this.#maxFrameBytes
          ? `frame of ${body} bytes exceeds the limit before HELLO (${this.#limit})`
          : `frame of ${body} bytes exceeds maxFrameBytes (${this.#maxFrameBytes})`,
      );
    }
    return body;
  }
}

/**
 * Large frames from one worker differ in size by a few bytes (a batch is sealed when the next
 * record does not fit), and the master frees each one soon after. Allocating them in 16 KiB size
 * classes hands the memory allocator the same size again and again, so it reuses freed blocks
 * instead of fragmenting its heap: in the 60 s sustained benchmark the master's RSS crept up by
 * about 1.2 MB/min over the second half with exact sizes, under 0.5 (some runs negative) with
 * classes (JS heap flat in both). Frames under
 * 64 KiB keep their exact size, so the rounding never adds more than a quarter, and for batches
 * of the default size (frames just under 256 KiB) it adds a few bytes.
 */
const ASSEMBLY_SIZE_CLASS = 16 * 1024;
const ASSEMBLY_ROUNDING_FROM = 64 * 1024;
/**
 * A frame above {@link ASSEMBLY_ROUNDING_FROM} starts with a buffer of that size and grows by
 * this factor as its bytes arrive, so what a peer's claimed length costs is a bounded multiple of
 * the bytes it has really sent: claiming 16 MiB and sending 10 bytes holds 64 KiB, not 16 MiB.
 * Every capacity on the way is a power of two, a multiple of the size class, so the allocator still
 * sees few distinct sizes. 4 rather than 2 because of the hot path: a default batch (just under
 * 256 KiB) needs one step, 64 KiB to 256 KiB, where doubling needs two and copies about half the
 * frame again; assembling such batches from 64 KiB chunks, doubling measured about 20% slower than
 * allocating the claimed size at once, 4 within noise.
 */
const ASSEMBLY_GROWTH_FACTOR = 4;

/**
 * Capacity for assembling a frame of `frameBytes` that must hold `need` bytes, given the current
 * `capacity` (0 at the start). Frames up to 64 KiB are allocated whole and exact, as before: they
 * cost at most 64 KiB, and growing them would only add copies. Larger ones get 64 KiB or under 4
 * times `need`, under 8 at the last step (below); the steps before the last add up to under 2/3 of
 * the frame, which bounds the extra copying.
 */
function assemblyCapacity(frameBytes: number, capacity: number, need: number): number {
  if (frameBytes <= ASSEMBLY_ROUNDING_FROM) return frameBytes;
  const whole = Math.ceil(frameBytes / ASSEMBLY_SIZE_CLASS) * ASSEMBLY_SIZE_CLASS;
  let grown = Math.max(ASSEMBLY_ROUNDING_FROM, capacity * ASSEMBLY_GROWTH_FACTOR);
  while (grown < need) grown *= ASSEMBLY_GROWTH_FACTOR;
  // A step just short of the whole frame would be followed by copying nearly all of it again for
  // its last bytes (a 1 MiB record makes a frame of 1 MiB + 4): from half the frame, take it all.
  return grown * 2 >= whole ? whole : grown;
}

function requireBody(frame: Buffer, bytes: number, what: string): void {
  if (frame.length !== FRAME_HEADER_BYTES + bytes) {
    throw new ProtocolError(
      `${what} frame must carry ${bytes} bytes, got ${frame.length - FRAME_HEADER_BYTES}`,
    );
  }
}

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

/** Decodes the single u64 carried by DROPS, ACK. */
export function decodeU64Message(frame: Buffer, what: string): number {
  requireBody(frame, 8, what);
  return readU64(frame, FRAME_HEADER_BYTES);
}

export function decodeWelcome(frame: Buffer): { version: number; lastCommittedSeq: number } {
  requireBody(frame, 14, "WELCOME");
  if (frame.readUInt32LE(FRAME_HEADER_BYTES) !== MAGIC)
    throw new ProtocolError("WELCOME lacks the LMUX magic");
  const version = frame.readUInt16LE(FRAME_HEADER_BYTES + 4);
  if (version !== PROTOCOL_VERSION) throw new ProtocolError(`master speaks protocol version ${version}`);
  return { version, lastCommittedSeq: readU64(frame, FRAME_HEADER_BYTES + 6) };
}

export function frameType(frame: Buffer): number {
  return frame[4]!;
}

export function frameText(frame: Buffer): string {
  return frame.toString("utf8", FRAME_HEADER_BYTES);
}

export { MessageType };
