/**
 * A growable byte buffer that formatters write into directly, so a batch of lines becomes one
 * Buffer (one write syscall) without intermediate strings.
 */
export class ByteSink {
  buffer: Buffer;
  /**
   * The same memory as a plain Uint8Array. Indexed stores into a Buffer measured about 2.5x slower
   * than into a plain Uint8Array on Node 20 (230 ns against 94 ns for a 54-byte loop), so byte
   * formatters write through this view.
   */
  bytes: Uint8Array;
  /** The same memory again, for word-at-a-time copies (see {@link copyBytes}). */
  words: DataView;
  length = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
    this.bytes = plainView(this.buffer);
    this.words = wordView(this.buffer);
  }

  /** Makes room for `bytes` more bytes; returns the offset to write at. */
  reserve(bytes: number): number {
    const needed = this.length + bytes;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
      this.bytes = plainView(grown);
      this.words = wordView(grown);
    }
    return this.length;
  }

  writeBytes(src: Uint8Array, start = 0, end = src.length): void {
    const at = this.reserve(end - start);
    this.buffer.set(start === 0 && end === src.length ? src : src.subarray(start, end), at);
    this.length = at + end - start;
  }

  writeByte(byte: number): void {
    const at = this.reserve(1);
    this.buffer[at] = byte;
    this.length = at + 1;
  }

  writeString(text: string): void {
    const at = this.reserve(text.length * 3);
    this.length = at + this.buffer.write(text, at, "utf8");
  }

  /** The bytes written so far, as a view; valid until the next write or {@link reset}. */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/** A plain Uint8Array over a Buffer's memory (see {@link ByteSink.bytes}). */
export function plainView(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** A DataView over a Buffer's memory (see {@link copyBytes}). */
export function wordView(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * Copies `length` bytes four at a time through DataViews, then the last 0-3 one by one. For the
 * 20-200 byte pieces a log line is made of this measured 2-3x faster than a byte loop and than
 * `set()` or `Buffer#copy` (which pay 90-160 ns a call however short the copy) on Node 20.
 * Int32 rather than Uint32 keeps every value a small integer in unoptimised code too.
 */
export function copyBytes(
  src: DataView,
  srcBytes: Uint8Array,
  start: number,
  length: number,
  out: DataView,
  outBytes: Uint8Array,
  at: number,
): void {
  let k = 0;
  for (const words = length - 3; k < words; k += 4) out.setInt32(at + k, src.getInt32(start + k, true), true);
  for (; k < length; k++) outBytes[at + k] = srcBytes[start + k]!;
}
