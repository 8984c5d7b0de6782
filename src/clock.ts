import { performance } from "node:perf_hooks";

/**
 * A wall clock cheap enough for the log call: a monotonic high-resolution counter anchored once to
 * wall time at process start (performance.timeOrigin), so no BigInt and no Date object per call.
 * It does not follow later wall-clock steps (NTP), which is what keeps one worker's timestamps
 * monotonic.
 */
const timeOrigin = performance.timeOrigin;

/** Milliseconds since the epoch, with sub-millisecond precision. */
export function nowMs(): number {
  return timeOrigin + performance.now();
}

const TWO_POW_32 = 4294967296;
/** 1e9 = 1953125 * 2^9; splitting it keeps every product below 2^53, so the u64 stays exact. */
const NS_PER_SEC_ODD = 1953125;
const TWO_POW_23 = 8388608;

let cachedSecond = -1;
let cachedHi = 0;
let cachedLo = 0;

/** Writes the current time as a little-endian u64 of nanoseconds since the epoch at `offset`. */
export function writeNowNs(buf: Buffer, offset: number): void {
  writeMsAsNs(buf, offset, nowMs());
}

/** Writes `ms` (since the epoch, fractional) as a little-endian u64 nanosecond count. */
export function writeMsAsNs(buf: Buffer, offset: number, ms: number): void {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const scaled = second * NS_PER_SEC_ODD;
    cachedHi = Math.floor(scaled / TWO_POW_23);
    cachedLo = (scaled % TWO_POW_23) * 512;
    cachedSecond = second;
  }
  let lo = cachedLo + Math.floor((ms - second * 1000) * 1e6);
  let hi = cachedHi;
  if (lo >= TWO_POW_32) {
    lo -= TWO_POW_32;
    hi += 1;
  }
  buf.writeUInt32LE(lo, offset);
  buf.writeUInt32LE(hi, offset + 4);
}

/** Reads a little-endian u64 nanosecond timestamp as fractional milliseconds since the epoch. */
export function readNsAsMs(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset + 4) * 4294.967296 + buf.readUInt32LE(offset) / 1e6;
}

/** Reads a little-endian u64 nanosecond timestamp exactly, as a bigint. */
export function readNsBigInt(buf: Buffer, offset: number): bigint {
  return (BigInt(buf.readUInt32LE(offset + 4)) << 32n) | BigInt(buf.readUInt32LE(offset));
}
