import type { Socket } from "node:net";
import { RecordBatch } from "../protocol/record-batch.js";
import type { TailStats } from "../protocol/status.js";
import { encodeTailLive, encodeTailRecords, encodeTailSkipped } from "../protocol/tail.js";
import type { TailFilter } from "./tail-filter.js";
import type { Selection } from "./tail-ring.js";

/**
 * The socket's own buffer may hold this much before the subscriber stops writing and waits for
 * 'drain'; the kernel's buffer (about 200 KiB for a Unix socket on Linux) comes on top. Small,
 * because what waits here can no longer be dropped and counted.
 */
const WRITE_HIGH_WATER = 64 * 1024;
/**
 * At shutdown, a tail whose socket takes nothing for this long (a stalled terminal) is cut rather
 * than holding up the master's exit; one that keeps reading gets everything queued for it.
 */
const FINISH_IDLE_MS = 1000;
/** Wire bytes of batches looked at per event-loop turn, like a handler's push slice. */
const TURN_BYTES = 256 * 1024;

/**
 * A queued batch whose memory is this many times its wire bytes or more is copied first (see
 * {@link owned}); under it the queue pins at most this many times its bound. Batches a tail takes
 * all of share their chunks with the batches queued next to them and are seldom copied.
 */
const PIN_RATIO = 4;

/**
 * `batch`, or a copy of it that owns its memory when it is a small view of a larger buffer: a
 * frame that arrived whole is a view of the socket's chunk (up to 64 KiB), so a narrow tail that
 * keeps one small batch of each chunk would pin whole chunks while counting only the batches.
 */
export function owned(batch: RecordBatch): RecordBatch {
  return batch.buffer.buffer.byteLength < PIN_RATIO * batch.byteLength ? batch : copyBatch(batch);
}

/** `batch` in memory of its own. */
export function copyBatch(batch: RecordBatch): RecordBatch {
  // allocUnsafeSlow: a small Buffer.from would come from the shared 8 KiB pool and pin that.
  const copy = Buffer.allocUnsafeSlow(batch.byteLength);
  batch.buffer.copy(copy);
  return new RecordBatch(copy, batch.offsets, batch.count, batch.source, batch.minLevel, batch.maxLevel);
}

/** A batch to send: records pre-selected (kept ones), or to be filtered when sent (live ones). */
interface Item {
  batch: RecordBatch;
  indices: number[] | undefined;
}

/**
 * One tail connection: its own FIFO of batch references, bounded in wire bytes. Nothing it does
 * waits for the peer: when the socket backs up it stops writing, and when the queue passes its
 * bound the oldest batches are dropped, their matching records counted and reported to the
 * client (TAIL_SKIPPED) where the gap is. So a stalled terminal costs the master at most its
 * bound in memory and never holds up a handler or a worker.
 */
export class TailSubscriber {
  readonly socket: Socket;
  readonly #filter: TailFilter;
  readonly #maxQueueBytes: number;
  #items: (Item | "live")[] = [];
  #head = 0;
  #queuedBytes = 0;
  #scheduled = false;
  #waitingForDrain = false;
  /** Accepting live records: after the query, when following, until the master closes it. */
  #live = false;
  #ending = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #unreported = 0;
  sent = 0;
  skipped = 0;
  closed = false;

  constructor(socket: Socket, filter: TailFilter, maxQueueBytes: number) {
    this.socket = socket;
    this.#filter = filter;
    this.#maxQueueBytes = maxQueueBytes;
  }

  /** Queues the kept records, then TAIL_LIVE; live records follow only when `follow`. */
  start(kept: readonly Selection[], follow: boolean): void {
    for (const { batch, indices } of kept) this.#push({ batch, indices });
    this.#items.push("live");
    this.#live = follow;
    if (!follow) this.#ending = true;
    this.#schedule();
  }

  offer(batch: RecordBatch): void {
    if (!this.#live || this.closed || !this.#filter.admits(batch)) return;
    this.#push({ batch: owned(batch), indices: undefined });
    this.#schedule();
  }

  /**
   * Shutdown: no more live records; the socket ends once what is queued is written, or is cut
   * when the peer takes nothing for {@link FINISH_IDLE_MS}.
   */
  finish(): void {
    this.#live = false;
    this.#ending = true;
    this.#idleTimer = setTimeout(() => this.socket.destroy(), FINISH_IDLE_MS).unref();
    this.socket.once("close", () => clearTimeout(this.#idleTimer));
    this.#schedule();
  }

  stats(): TailStats {
    return { sent: this.sent, skipped: this.skipped, queuedBytes: this.#queuedBytes };
  }

  #push(item: Item): void {
    this.#items.push(item);
    this.#queuedBytes += item.batch.byteLength;
    // Never the batch just queued: one larger than the bound alone would otherwise drop itself,
    // and a tail reading at full speed would skip every such batch.
    while (this.#queuedBytes > this.#maxQueueBytes && this.#items.length - this.#head > 1) {
      const oldest = this.#shift();
      if (oldest === undefined) break;
      if (oldest === "live") {
        // The marker itself is never dropped: it goes straight out, ahead of the gap.
        this.#write(this.#skippedFrame());
        this.#write(encodeTailLive());
        continue;
      }
      const lost = (oldest.indices ?? this.#filter.select(oldest.batch)).length;
      this.skipped += lost;
      this.#unreported += lost;
    }
  }

  #shift(): Item | "live" | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as unknown as Item;
    if (item !== "live") this.#queuedBytes -= item.batch.byteLength;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  #schedule(): void {
    if (this.#scheduled || this.#waitingForDrain || this.closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  #run(): void {
    let bytes = 0;
    while (!this.closed && bytes < TURN_BYTES) {
      if (this.socket.writableLength >= WRITE_HIGH_WATER) {
        this.#waitingForDrain = true;
        this.socket.once("drain", () => {
          this.#idleTimer?.refresh();
          this.#waitingForDrain = false;
          this.#schedule();
        });
        return;
      }
      const item = this.#shift();
      if (item === undefined) break;
      const gap = this.#skippedFrame();
      if (gap !== undefined) this.#write(gap);
      if (item === "live") {
        this.#write(encodeTailLive());
        continue;
      }
      bytes += item.batch.byteLength;
      const indices = item.indices ?? this.#filter.select(item.batch);
      if (indices.length === 0) continue;
      this.#write(encodeTailRecords(item.batch, indices));
      this.sent += indices.length;
    }
    if (this.closed) return;
    if (this.#head < this.#items.length) this.#schedule();
    else if (this.#ending) {
      const gap = this.#skippedFrame();
      if (gap !== undefined) this.#write(gap);
      this.socket.end();
    }
  }

  #skippedFrame(): Buffer | undefined {
    if (this.#unreported === 0) return undefined;
    const frame = encodeTailSkipped(this.#unreported);
    this.#unreported = 0;
    return frame;
  }

  #write(frame: Buffer | undefined): void {
    if (frame !== undefined && !this.closed && this.socket.writable) this.socket.write(frame);
  }
}
