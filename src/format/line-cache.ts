import { MillisecondCache } from "./millisecond-cache.js";
import type { Field } from "./pattern.js";
import { type Bytes, bytesOf } from "./sink.js";

/**
 * The byte program of a compiled LinePattern (one op per segment) and the (worker, millisecond,
 * level) cache of the parts of a line around its message, which the pattern's fast path copies.
 */

export const OP_LITERAL = 0;
export const OP_ASCTIME = 1;
export const OP_LEVEL = 2;
export const OP_NAME = 3;
export const OP_MESSAGE = 4;
export const OP_FIELD = 5;
export const EMPTY = bytesOf(new Uint8Array(0));

/** One monomorphic shape for every op, so the formatting loop's property loads stay fast. */
export interface ByteOp {
  kind: number;
  bytes: Bytes;
  table: Bytes[];
  field: Field | undefined;
}

export type RunOps = (
  ops: ByteOp[],
  ms: number,
  level: number,
  name: Bytes,
  out: Bytes,
  at: number,
) => number;

/** The bytes around the message for one level in the current (worker, millisecond). */
export interface CachedLine {
  generation: number;
  head: Bytes;
  headLength: number;
  tail: Bytes;
  tailLength: number;
}

/**
 * The (worker, millisecond, level) cache behind {@link LinePattern}'s fast path: the bytes
 * before and after the message (see MillisecondCache for how the millisecond is recognised).
 */
export class LineCache extends MillisecondCache {
  readonly #head: ByteOp[];
  readonly #tail: ByteOp[];
  readonly #run: RunOps;
  /** Upper bound of a part's bytes: the pattern's fixed bytes plus the name for each %(name)s. */
  readonly #fixedBytes: number;
  readonly #nameOps: number;
  readonly #lines: CachedLine[] = [];
  /** A cache when `ops` is cacheable ops, one message, cacheable ops; otherwise undefined. */
  static forOps(ops: ByteOp[], fixedBytes: number, nameOps: number, run: RunOps): LineCache | undefined {
    const messageAt = ops.findIndex((op) => op.kind === OP_MESSAGE);
    const cacheable = (op: ByteOp): boolean => op.kind !== OP_MESSAGE && op.kind !== OP_FIELD;
    if (messageAt < 0) return undefined;
    const head = ops.slice(0, messageAt);
    const tail = ops.slice(messageAt + 1);
    if (!head.every(cacheable) || !tail.every(cacheable)) return undefined;
    return new LineCache(head, tail, fixedBytes, nameOps, run);
  }

  private constructor(head: ByteOp[], tail: ByteOp[], fixedBytes: number, nameOps: number, run: RunOps) {
    super();
    this.#head = head;
    this.#tail = tail;
    this.#fixedBytes = fixedBytes;
    this.#nameOps = nameOps;
    this.#run = run;
  }

  /** The line parts for `level` in the current millisecond, built on first use. */
  entry(level: number, name: Bytes): CachedLine {
    let line = this.#lines[level];
    if (line === undefined) {
      line = { generation: 0, head: EMPTY, headLength: 0, tail: EMPTY, tailLength: 0 };
      this.#lines[level] = line;
    }
    if (line.generation !== this.generation) {
      const room = this.#fixedBytes + this.#nameOps * name.bytes.length;
      // +1 for the newline at the end of the tail.
      if (line.tail.bytes.length < room + 1) {
        line.head = bytesOf(new Uint8Array(room));
        line.tail = bytesOf(new Uint8Array(room + 1));
      }
      line.headLength = this.#run(this.#head, this.ms, level, name, line.head, 0);
      const tailEnd = this.#run(this.#tail, this.ms, level, name, line.tail, 0);
      line.tail.bytes[tailEnd] = 0x0a;
      line.tailLength = tailEnd + 1;
      line.generation = this.generation;
    }
    return line;
  }
}
