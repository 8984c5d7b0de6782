const TWO_POW_32 = 4294967296;

/** Reads a little-endian u64 known to stay below 2^53 (sequence numbers, counters). */
export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset + 4) * TWO_POW_32 + buf.readUInt32LE(offset);
}

/** Writes a non-negative integer below 2^53 as a little-endian u64. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE((value % TWO_POW_32) >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_POW_32) >>> 0, offset + 4);
}
