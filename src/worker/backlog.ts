import type { LoggerConfig } from "../config.js";
import { BATCH_COUNT_OFFSET, BATCH_SEQ_OFFSET } from "../protocol/constants.js";
import { BatchBuilder } from "../protocol/encoder.js";
import { readU64 } from "../protocol/u64.js";
import { Spool } from "../state/spool.js";

/** A sealed batch held until the master acknowledges its seq. */
export interface SealedBatch {
  seq: number;
  frame: Buffer;
  count: number;
  /** The builder whose memory `frame` is, reused once the master acknowledges the batch. */
  builder?: BatchBuilder;
}

/**
 * Acknowledged batch buffers kept for reuse instead of allocating one per batch (allocation,
 * first-touch page faults, GC): in a same-process A/B at full speed this took a few percent off
 * the worker's CPU per record. A logger at a moderate rate cycles through two or three; under a
 * burst, more batches are in flight than this, and the extra ones are left to the GC.
 */
const MAX_SPARE_BUILDERS = 4;

/** Capacity of a worker's first batch (see {@link Backlog.newBuilder}). */
const FIRST_BATCH_BYTES = 4096;

/** Who a spool file belongs to, written into its header. */
export interface SpoolOwner {
  instanceId: Buffer;
  pid: number;
  name: string;
}

/**
 * Everything a worker holds for the master once a batch is sealed: batches in memory up to
 * `maxBacklogBytes`, the overflow on disk (the spool, always newer than what is in memory), the
 * seq counter, and the buffers of acknowledged batches kept for reuse. Order holds throughout: a
 * batch never overtakes an older one, in memory, on disk, or on the way back from disk.
 */
export class Backlog {
  readonly #config: LoggerConfig;
  readonly #owner: SpoolOwner;
  readonly #batchBytes: number;
  readonly #spareBuilders: BatchBuilder[] = [];
  /** Overflow on disk, newer than everything in `pending`; created on first use. */
  #spool: Spool | undefined;
  #spoolFailureReported = false;
  #seq = 0;
  #bytes = 0;
  #ackedSeq = 0;
  /** Sealed batches not yet acknowledged, oldest first; those before `sendIndex` are on the wire. */
  pending: SealedBatch[] = [];
  sendIndex = 0;
  /** Records discarded under backpressure ("drop" policy, or a full or failing spool). */
  dropped = 0;

  constructor(config: LoggerConfig, owner: SpoolOwner) {
    this.#config = config;
    this.#owner = owner;
    this.#batchBytes = config.maxBatchBytes;
  }

  /** The seq of the newest sealed batch. */
  get seq(): number {
    return this.#seq;
  }

  /** The highest seq the master has acknowledged. */
  get ackedSeq(): number {
    return this.#ackedSeq;
  }

  /** Bytes of sealed batches in memory. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether batches wait on disk (then new ones must follow them there, and order holds). */
  get spooled(): boolean {
    return this.#spool !== undefined && this.#spool.frames > 0;
  }

  /** Batches not acknowledged yet, in memory and on disk. */
  get unacknowledgedBatches(): number {
    return this.pending.length + (this.#spool?.frames ?? 0);
  }

  /**
   * A builder for the next batch. The first batch is small: a process that logs a few lines never
   * allocates a whole batch, and it fills after a few dozen records, so V8 has seen the batch-full
   * path before it optimises the log call (a path first taken in optimised code discards that code).
   */
  newBuilder(): BatchBuilder {
    if (this.#seq === 0) return new BatchBuilder(Math.min(FIRST_BATCH_BYTES, this.#batchBytes));
    return this.#spareBuilders.pop() ?? new BatchBuilder(this.#batchBytes);
  }

  /** Seals a non-empty builder into memory, or the spool when memory is full, or drops it. */
  seal(builder: BatchBuilder): void {
    const frameBytes = builder.byteLength;
    if (!this.spooled && this.#bytes + frameBytes <= this.#config.maxBacklogBytes) {
      const seq = ++this.#seq;
      // Only standard-size builders are worth keeping; an oversized one is used once.
      const reusable = builder.buffer.length === this.#batchBytes ? builder : undefined;
      this.pending.push({ seq, frame: builder.seal(seq), count: builder.count, builder: reusable });
      this.#bytes += frameBytes;
      return;
    }
    // Memory is full (or older batches already wait on disk, and order must hold).
    if (this.#config.onBackpressure === "drop" || !this.#spoolFrame(builder.seal(this.#seq + 1))) {
      this.dropped += builder.count;
      return;
    }
    this.#seq++;
  }

  /** Appends a frame to the spool; false when the spool is full or the disk refused it. */
  #spoolFrame(frame: Buffer): boolean {
    try {
      this.#spool ??= new Spool(this.#config.socketPath, this.#owner);
      if (this.#spool.bytes + frame.length > this.#config.maxSpoolBytes) return false;
      this.#spool.append(frame);
      return true;
    } catch (error) {
      this.#reportSpoolFailure(error);
      return false;
    }
  }

  #reportSpoolFailure(error: unknown): void {
    if (this.#spoolFailureReported) return;
    this.#spoolFailureReported = true;
    process.stderr.write(
      `logmux: worker ${this.#owner.name}: cannot write the spool: ${(error as Error).message}\n`,
    );
  }

  /** Moves spooled batches back into memory as acknowledgements make room, oldest first. */
  refill(): void {
    const spool = this.#spool;
    if (spool === undefined) return;
    const limit = this.#config.maxBacklogBytes;
    while (spool.frames > 0 && this.#bytes < limit / 2) {
      for (const frame of spool.take(limit / 4)) {
        const seq = readU64(frame, BATCH_SEQ_OFFSET);
        this.pending.push({ seq, frame, count: frame.readUInt32LE(BATCH_COUNT_OFFSET) });
        this.#bytes += frame.length;
      }
    }
    if (spool.frames === 0) {
      spool.remove();
      this.#spool = undefined;
    }
  }

  /**
   * Forgets every batch up to `seq` (the master's handlers have them) and keeps their buffers for
   * reuse. Returns true when batches were released and more wait on disk.
   */
  acknowledge(seq: number): boolean {
    if (seq <= this.#ackedSeq) return false;
    this.#ackedSeq = seq;
    const pending = this.pending;
    let drop = 0;
    while (drop < pending.length && pending[drop]!.seq <= seq) {
      const batch = pending[drop]!;
      this.#bytes -= batch.frame.length;
      // Acknowledged means the master has read every byte, so no write still needs this memory.
      if (batch.builder !== undefined && this.#spareBuilders.length < MAX_SPARE_BUILDERS) {
        batch.builder.reset();
        this.#spareBuilders.push(batch.builder);
      }
      drop++;
    }
    if (drop === 0) return false;
    pending.splice(0, drop);
    this.sendIndex = Math.max(0, this.sendIndex - drop);
    return this.#spool !== undefined;
  }

  /**
   * Puts every unacknowledged batch (memory first, then what was already on disk) into a spool
   * handed over to the next master. Returns its path, or undefined when there was nothing to keep
   * or the disk refused.
   */
  spoolUnacknowledged(): string | undefined {
    const older = this.pending;
    const newer = this.#spool?.take(Number.POSITIVE_INFINITY) ?? [];
    if (older.length === 0 && newer.length === 0) {
      this.#spool?.remove();
      this.#spool = undefined;
      return undefined;
    }
    try {
      this.#spool?.remove();
      const spool = new Spool(this.#config.socketPath, this.#owner);
      this.#spool = spool;
      for (const frame of [...older.map((batch) => batch.frame), ...newer]) {
        if (spool.bytes + frame.length > this.#config.maxSpoolBytes) {
          this.dropped += frame.readUInt32LE(BATCH_COUNT_OFFSET);
        } else {
          spool.append(frame);
        }
      }
      this.pending = [];
      this.#bytes = 0;
      this.sendIndex = 0;
      this.#spool = undefined;
      return spool.handOver();
    } catch (error) {
      this.#reportSpoolFailure(error);
      return undefined;
    }
  }
}
