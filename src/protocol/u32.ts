/**
 * Little-endian u32 read for offsets the caller has already bounds-checked (a validated frame).
 * `Buffer#readUInt32LE` re-validates its argument on every call, which showed up as the master's
 * largest cost after formatting itself; this is four loads and shifts.
 */
export function u32(buf: Uint8Array, offset: number): number {
  return (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16)) + buf[offset + 3]! * 0x1000000;
}

/** Little-endian u16 read, on the same terms as {@link u32}. */
export function u16(buf: Uint8Array, offset: number): number {
  return buf[offset]! | (buf[offset + 1]! << 8);
}
