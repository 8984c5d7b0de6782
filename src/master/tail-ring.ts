import type { RecordBatch } from "../protocol/record-batch.js";
import type { TailFilter } from "./tail-filter.js";

/** Kept records a query selected: one batch and the indices in it, ascending. */
export interface Selection {
  batch: RecordBatch;
  indices: number[];
}

/**
 * The last records the master routed, for `logmux tail -n`/`--since`. It keeps references to the
 * batches the handlers were given (no copy, O(1) per batch on the hot path) and drops whole
 * batches from the old end. Two bounds: records (the newest `maxRecords` are what a query sees)
 * and wire bytes, because a batch pins its frame and a few huge records must not pin hundreds of
 * MiB. Unlike a tail's queue (see `owned` in tail-subscriber.ts) it never copies a batch that is a
 * view of a larger socket read: it keeps every batch in routing order, and the frames of one read
 * are routed one after the other, so all but the oldest read it holds are wholly kept and counted.
 */
export class TailRing {
  readonly maxRecords: number;
  readonly maxBytes: number;
  #batches: RecordBatch[] = [];
  #head = 0;
  #records = 0;
  #bytes = 0;

  constructor(maxRecords: number, maxBytes: number) {
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
  }

  get records(): number {
    return Math.min(this.#records, this.maxRecords);
  }

  push(batch: RecordBatch): void {
    if (this.maxRecords === 0) return;
    this.#batches.push(batch);
    this.#records += batch.count;
    this.#bytes += batch.byteLength;
    while (this.#head < this.#batches.length) {
      const oldest = this.#batches[this.#head]!;
      // The oldest batch stays while the ring needs any of its records to hold maxRecords.
      if (this.#records - oldest.count < this.maxRecords && this.#bytes <= this.maxBytes) break;
      this.#batches[this.#head++] = undefined as unknown as RecordBatch;
      this.#records -= oldest.count;
      this.#bytes -= oldest.byteLength;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * The newest `last` kept records that match `filter` and are at most `sinceMs` old (0: any
   * age), oldest first. Only the newest {@link maxRecords} records are looked at.
   */
  select(filter: TailFilter, last: number, sinceMs: number, nowMs: number): Selection[] {
    const out: Selection[] = [];
    if (last === 0) return out;
    const oldestMs = sinceMs > 0 ? nowMs - sinceMs : Number.NEGATIVE_INFINITY;
    let budget = this.maxRecords;
    let wanted = last;
    for (let b = this.#batches.length - 1; b >= this.#head && budget > 0 && wanted > 0; b--) {
      const batch = this.#batches[b]!;
      const from = Math.max(0, batch.count - budget);
      budget -= batch.count - from;
      if (!filter.admits(batch)) continue;
      const indices: number[] = [];
      // Timestamps are the workers' clocks, not ordered across workers: an old record is no
      // reason to stop looking at older batches.
      for (let i = batch.count - 1; i >= from && wanted > 0; i--) {
        if (batch.timestampMs(i) >= oldestMs && filter.matches(batch, i)) {
          indices.push(i);
          wanted--;
        }
      }
      if (indices.length > 0) out.push({ batch, indices: indices.reverse() });
    }
    return out.reverse();
  }
}
