// Framing and the control messages a worker or a status client reads (WELCOME, ACK, text frames):
// apart from decoder.ts, whose batch decoding only the master needs, so a worker never loads it.
import { ProtocolError } from "../errors.js";
import { FRAME_HEADER_BYTES, MAGIC, PROTOCOL_VERSION } from "./constants.js";
import { readU64 } from "./u64.js";

const LENGTH_BYTES = 4;

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

export function requireBody(frame: Buffer, bytes: number, what: string): void {
  if (frame.length !== FRAME_HEADER_BYTES + bytes) {
    throw new ProtocolError(
      `${what} frame must carry ${bytes} bytes, got ${frame.length - FRAME_HEADER_BYTES}`,
    );
  }
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
