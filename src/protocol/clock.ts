import { u32 } from "./u32.js";

/**
 * A wall clock cheap enough for the log call: the monotonic high-resolution counter behind
 * `process.hrtime()`, anchored once to wall time, so no BigInt and no Date object per call. It
 * does not follow later wall-clock steps (NTP), which is what keeps one worker's timestamps
 * monotonic.
 *
 * Why not `performance.now()`, which reads the same counter: Node 20's method checks its receiver
 * through a stack-hiding wrapper with a try/catch, which TurboFan inlines into every function that
 * logs. Measured on the 2-core VM (one worker, 250k records, `--turbo-stats-nvp`): 28.5 ms of
 * TurboFan per worker process with it, 20 ms with `process.hrtime()`; and 68 ns a read against 51.
 * That compile time is paid again by every worker process, part of what makes the cost per line
 * grow with the number of workers. `performance` (the global, which does not load
 * `node:perf_hooks`) is read once, for the anchor: its time origin is exact to the microsecond,
 * where `Date.now()` would leave each process's timestamps up to a millisecond off the others'.
 */
const hrtime = process.hrtime;

/** The counter in milliseconds, from an arbitrary origin. */
function counterMs(): number {
  const t = hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}

/**
 * Wall time at the counter's origin: performance.timeOrigin + performance.now() is wall time now.
 * The counter is read between two reads of performance.now(), after a first call, so neither the
 * lazy compilation of counterMs() nor the gap between the reads (tens of microseconds when cold)
 * shifts the anchor.
 */
const counterOrigin = (() => {
  const { performance } = globalThis;
  counterMs();
  const before = performance.now();
  const counter = counterMs();
  const after = performance.now();
  return performance.timeOrigin + (before + after) / 2 - counter;
})();

/** Milliseconds since the epoch, with sub-millisecond precision. */
export function nowMs(): number {
  return counterOrigin + counterMs();
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

/**
 * Writes `ms` (since the epoch, fractional) as a little-endian u64 nanosecond count through `view`
 * (a DataView: `Buffer#writeUInt32LE` re-validates its arguments, which the log call cannot afford).
 * The nanosecond base of the current second is cached, so most calls add only the sub-second part.
 */
export function setMsAsNs(view: DataView, offset: number, ms: number): void {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const scaled = second * NS_PER_SEC_ODD;
    cachedHi = Math.floor(scaled / TWO_POW_23);
    cachedLo = (scaled % TWO_POW_23) * 512;
    cachedSecond = second;
  }
  const sum = cachedLo + Math.floor((ms - second * 1000) * 1e6);
  // Branch-free carry: a branch taken once every few seconds would be one V8 never saw before
  // optimising the log call, and taking it then throws the optimised code away.
  const carry = sum >= TWO_POW_32 ? 1 : 0;
  view.setUint32(offset, sum - carry * TWO_POW_32, true);
  view.setUint32(offset + 4, cachedHi + carry, true);
}

/** {@link setMsAsNs} for a Buffer (control messages and tests, not the hot path). */
export function writeMsAsNs(buf: Buffer, offset: number, ms: number): void {
  setMsAsNs(new DataView(buf.buffer, buf.byteOffset, buf.length), offset, ms);
}

/**
 * Reads a little-endian u64 nanosecond timestamp as fractional milliseconds since the epoch. The
 * whole milliseconds are exact (2^32 ns = 4294 ms + 967296 ns keeps every product below 2^53),
 * and the fraction never rounds up into the next millisecond, so `Math.floor()` of the result is
 * the record's true millisecond: asctime and `timestampNs` always agree.
 */
export function readNsAsMs(buf: Buffer, offset: number): number {
  const hi = u32(buf, offset + 4);
  const rest = hi * 967296 + u32(buf, offset);
  const restMs = Math.floor(rest / 1e6);
  const whole = hi * 4294 + restMs;
  // Multiply-subtract instead of `%`: a floating-point modulo is several times slower here.
  return belowNextMs(whole, (rest - restMs * 1e6) / 1e6);
}

/** {@link readNsAsMs} for a bigint: the same exact whole milliseconds. */
export function nsToMs(ns: bigint): number {
  return belowNextMs(Number(ns / 1_000_000n), Number(ns % 1_000_000n) / 1e6);
}

/**
 * `whole + fraction`, kept below `whole + 1`: far enough from the epoch a fraction of .9999 rounds
 * up into the next millisecond. `x * (1 - EPSILON)` is below x for every x up to 2^52 ms, and a
 * u64 of nanoseconds stays under 2^45 ms.
 */
function belowNextMs(whole: number, fraction: number): number {
  const ms = whole + fraction;
  return ms < whole + 1 ? ms : (whole + 1) * (1 - Number.EPSILON);
}

/** Reads a little-endian u64 nanosecond timestamp exactly, as a bigint. */
export function readNsBigInt(buf: Buffer, offset: number): bigint {
  return (BigInt(buf.readUInt32LE(offset + 4)) << 32n) | BigInt(buf.readUInt32LE(offset));
}
