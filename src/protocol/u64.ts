const TWO_POW_32 = 4294967296;

/** Reads a little-endian u64 known to stay below 2^53 (sequence numbers, counters). */
export function readU64(buf: Buffer, offset: number): number {
  const high = buf.readUInt32LE(offset + 4);
  const low = buf.readUInt32LE(offset);
  // `0 * 2^32 + low` is a heap number even when low is small; stored into a field that held small
  // integers (a worker's acknowledged seq), it changes the object's hidden class, and V8 throws
  // away the optimised log-call code built for the old one.
  return high === 0 ? low : high * TWO_POW_32 + low;
}

/** Writes a non-negative integer below 2^53 as a little-endian u64. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE((value % TWO_POW_32) >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_POW_32) >>> 0, offset + 4);
}
