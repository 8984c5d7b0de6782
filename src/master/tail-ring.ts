import { BATCH_HEADER_BYTES, BATCH_SEQ_OFFSET, MessageType } from "../protocol/constants.js";
import { decodeBatch } from "../protocol/decoder.js";
import type { RecordBatch, RecordSource } from "../protocol/record-batch.js";
import type { TailFilter } from "./tail-filter.js";
import { copyBatch } from "./tail-subscriber.js";

/** Kept records a query selected: one batch and the indices in it, ascending. */
export interface Selection {
  batch: RecordBatch;
  indices: number[];
}

/** One kept batch: a BATCH frame of the routed batch's newest records, in the arena. */
interface Kept {
  start: number;
  bytes: number;
  count: number;
  source: RecordSource;
}

/**
 * The arena starts this small and doubles up to `ringBytes` only when the records `ring` asks for
 * need it: a thousand ordinary records take ~70 KB, and pages of an arena never written are never
 * resident anyway.
 */
const INITIAL_ARENA_BYTES = 256 * 1024;

/**
 * The last records the master routed, for `logmux tail -n`/`--since`, as copies in one arena of
 * at most `maxBytes` that the ring owns. Two bounds: records (the newest `maxRecords` are what a
 * query sees) and bytes (a few huge records must not take hundreds of MiB).
 *
 * Why copies, when keeping references to the routed batches costs nothing per batch: a kept
 * batch outlives the socket reads around it, so the allocator's heap filled with such islands
 * between freed reads and grew without end. Measured in the sustained benchmark (4 workers, 500k
 * records/s): with references, the master's malloc heap grew ~12 MB a minute (RSS 87 -> 117 MB
 * over 150 s, JS heap and live ArrayBuffers flat); with `tail: false`, and with this arena, it
 * stays flat. Only the newest `maxRecords` of a batch are copied, and a frame in the arena is
 * decoded again only when a tail asks.
 */
export class TailRing {
  readonly maxRecords: number;
  readonly maxBytes: number;
  #arena: Buffer | undefined;
  #kept: Kept[] = [];
  #head = 0;
  #records = 0;
  /** Where the next frame goes: the arena is used from 0 to here, in routing order. */
  #end = 0;

  constructor(maxRecords: number, maxBytes: number) {
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
  }

  get records(): number {
    return Math.min(this.#records, this.maxRecords);
  }

  push(batch: RecordBatch): void {
    if (this.maxRecords === 0 || batch.count === 0) return;
    // Only the newest maxRecords of a batch can ever be looked at; fewer when they pass maxBytes.
    let first = Math.max(0, batch.count - this.maxRecords);
    while (
      first < batch.count &&
      BATCH_HEADER_BYTES + batch.byteLength - batch.offsets[first]! > this.maxBytes
    )
      first++;
    if (first === batch.count) {
      // Not one of its records fits: what is kept is older than a record a query would miss.
      this.#drop(this.#kept.length - this.#head);
      return;
    }
    const count = batch.count - first;
    const from = batch.offsets[first]!;
    const bytes = BATCH_HEADER_BYTES + batch.byteLength - from;
    // The oldest kept batches no query can reach any more: newer ones hold maxRecords without them.
    let unneeded = 0;
    let records = this.#records + count;
    for (
      let k = this.#head;
      k < this.#kept.length && records - this.#kept[k]!.count >= this.maxRecords;
      k++
    ) {
      records -= this.#kept[k]!.count;
      unneeded++;
    }
    this.#drop(unneeded);
    const arena = this.#room(bytes);
    const at = this.#end;
    arena.writeUInt32LE(bytes - 4, at);
    arena[at + 4] = MessageType.BATCH;
    batch.buffer.copy(arena, at + BATCH_SEQ_OFFSET, BATCH_SEQ_OFFSET, BATCH_SEQ_OFFSET + 8);
    arena.writeUInt32LE(count, at + BATCH_SEQ_OFFSET + 8);
    batch.buffer.copy(arena, at + BATCH_HEADER_BYTES, from, batch.byteLength);
    this.#kept.push({ start: at, bytes, count, source: batch.source });
    this.#records += count;
    this.#end = at + bytes;
  }

  /** The arena, with `bytes` free from {@link #end}: compacted, grown, or its oldest dropped. */
  #room(bytes: number): Buffer {
    let arena = this.#arena;
    if (arena !== undefined && this.#end + bytes <= arena.length) return arena;
    this.#compact();
    arena = this.#arena;
    if (arena !== undefined && this.#end + bytes <= arena.length) return arena;
    const length = arena?.length ?? 0;
    if (length < this.maxBytes) {
      const grown = Buffer.allocUnsafeSlow(
        Math.min(this.maxBytes, Math.max(INITIAL_ARENA_BYTES, 2 * length, this.#end + bytes)),
      );
      if (arena !== undefined) arena.copy(grown, 0, 0, this.#end);
      this.#arena = grown;
      if (this.#end + bytes <= grown.length) return grown;
      arena = grown;
    }
    // At maxBytes: the oldest go, though a query could still have reached them. Counted first and
    // compacted once: dropping and compacting one at a time moved the whole arena per batch dropped.
    let n = 0;
    for (let k = this.#head; k < this.#kept.length; k++) {
      if (this.#end - this.#kept[k]!.start + bytes <= arena!.length) break;
      n++;
    }
    this.#drop(n);
    this.#compact();
    return arena!;
  }

  /** Moves the kept frames to the start of the arena. */
  #compact(): void {
    const arena = this.#arena;
    if (arena === undefined || this.#emptied()) return;
    const shift = this.#kept[this.#head]!.start;
    if (shift > 0) {
      arena.copyWithin(0, shift, this.#end);
      for (let k = this.#head; k < this.#kept.length; k++) this.#kept[k]!.start -= shift;
      this.#end -= shift;
    }
    if (this.#head > 0) {
      this.#kept = this.#kept.slice(this.#head);
      this.#head = 0;
    }
  }

  #drop(n: number): void {
    for (let i = 0; i < n && this.#head < this.#kept.length; i++) {
      this.#records -= this.#kept[this.#head]!.count;
      this.#kept[this.#head++] = undefined as unknown as Kept;
    }
    this.#emptied();
  }

  /** When nothing is kept, starts the arena over from 0; says whether it did. */
  #emptied(): boolean {
    if (this.#head < this.#kept.length) return false;
    this.#kept = [];
    this.#head = 0;
    this.#end = 0;
    return true;
  }

  /**
   * The newest `last` kept records that match `filter` and are at most `sinceMs` old (0: any
   * age), oldest first. Only the newest {@link maxRecords} records are looked at. Each selected
   * batch is a copy of its own: the tail queues it, and the arena moves on.
   */
  select(filter: TailFilter, last: number, sinceMs: number, nowMs: number): Selection[] {
    const out: Selection[] = [];
    const arena = this.#arena;
    if (last === 0 || arena === undefined) return out;
    const oldestMs = sinceMs > 0 ? nowMs - sinceMs : Number.NEGATIVE_INFINITY;
    let budget = this.maxRecords;
    let wanted = last;
    for (let b = this.#kept.length - 1; b >= this.#head && budget > 0 && wanted > 0; b--) {
      const kept = this.#kept[b]!;
      const { batch } = decodeBatch(arena.subarray(kept.start, kept.start + kept.bytes), kept.source);
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
      if (indices.length > 0) out.push({ batch: copyBatch(batch), indices: indices.reverse() });
    }
    return out.reverse();
  }
}
