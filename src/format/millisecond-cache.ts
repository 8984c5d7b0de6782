import type { RecordSource } from "../protocol/record-batch.js";

const TWO_POW_32 = 4294967296;
const NS_PER_MS = 1_000_000;

/**
 * What the line formatters' caches share: everything of a line but its message and fields
 * depends only on the worker, the millisecond and the level, and a worker logs thousands of
 * records a millisecond under load, so those parts are built once per (worker, millisecond,
 * level). A subclass keeps the parts; this keeps which worker and millisecond they are for, and
 * bumps {@link generation} when either changes.
 *
 * The current millisecond is held as a range of the timestamp's low word under one high word: a
 * record with the same high word and a low word in [loStart, loEnd) has the same millisecond, two
 * comparisons instead of the division `readNsAsMs` needs. A millisecond that straddles a change
 * of high word (every 4.3 s) is just split in two ranges.
 */
export class MillisecondCache {
  #generation = 1;
  #source: RecordSource | undefined;
  // NaN, not 0: these hold numbers beyond small-integer range (a u32 word, milliseconds since
  // 1970), and a field that starts as a small integer and later holds such a number changes the
  // object's hidden class, which throws away the optimised formatting loop once per process.
  #hi = -1;
  #loStart = Number.NaN;
  #loEnd = Number.NaN;
  #ms = Number.NaN;

  /** Changes whenever the worker or the millisecond does: a part built under another is stale. */
  get generation(): number {
    return this.#generation;
  }

  /** The current millisecond since the epoch. */
  get ms(): number {
    return this.#ms;
  }

  /** Makes `source` the current worker; true when it was another. */
  useSource(source: RecordSource): boolean {
    if (source === this.#source) return false;
    this.#source = source;
    this.#generation++;
    return true;
  }

  covers(lo: number, hi: number): boolean {
    return hi === this.#hi && lo >= this.#loStart && lo < this.#loEnd;
  }

  /** Makes the record stamped (hi, lo) the current millisecond, as readNsAsMs reads it. */
  moveTo(lo: number, hi: number): void {
    // 2^32 ns = 4294 ms + 967296 ns, and every product stays below 2^53.
    const rest = hi * 967296 + lo;
    const restMs = Math.floor(rest / NS_PER_MS);
    const intoMs = rest - restMs * NS_PER_MS;
    this.#hi = hi;
    this.#loStart = Math.max(0, lo - intoMs);
    this.#loEnd = Math.min(TWO_POW_32, lo - intoMs + NS_PER_MS);
    this.#ms = hi * 4294 + restMs;
    this.#generation++;
  }
}
