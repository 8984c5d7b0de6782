import { type BaseLogHandler, kPushBatches } from "../handlers/base.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { HandlerStats } from "../protocol/status.js";

/**
 * One push hands a handler at most this much input, then yields to the event loop, so a burst of
 * thousands of queued batches is formatted in slices instead of one long synchronous stretch that
 * would starve every socket. 256 KiB is about 4k typical records, 1-2 ms of formatting; the bench
 * measured 1 MiB slices stretching to 30-60 ms when workers compete for the same cores.
 */
export const MAX_PUSH_BYTES = 256 * 1024;

/** Reading resumes once a queue that paused it is down to half its bound: hysteresis. */
const RESUME_FRACTION = 0.5;

interface QueuedBatch {
  batch: RecordBatch;
  ticket: number;
}

export interface HandlerQueueOptions {
  /** Records below this level are not pushed (max of the config's baseLevel and the handler's). */
  minLevel: number;
  /** Queue bound in wire bytes, the slice in the handler's hands included. */
  maxQueueBytes: number;
  /** A push pending longer than this marks the handler stalled: acknowledgements stop waiting for it. */
  stallTimeoutMs: number;
}

/**
 * A handler's own FIFO. It pushes one slice at a time and waits for it to settle before the next,
 * so each handler sees records in order and at its own pace; other handlers never wait on it.
 */
export class HandlerQueue {
  readonly handler: BaseLogHandler;
  readonly #minLevel: number;
  readonly #maxQueueBytes: number;
  readonly #stallTimeoutMs: number;
  readonly #onSettled: () => void;
  readonly #onFailure: (error: unknown) => void;
  readonly #onStallChange: (stalled: boolean) => void;
  #items: QueuedBatch[] = [];
  #head = 0;
  #bytes = 0;
  #running = false;
  #stalled = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Records handed to a push that has not settled yet. */
  #inFlight = 0;
  /**
   * Wire bytes of that push. They stay in {@link #bytes} until it settles: a handler that cannot
   * write (a full disk) still holds them, and the bound is on everything held.
   */
  #inFlightBytes = 0;
  /** Every ticket at or below this one is settled for this handler. */
  settledTicket = 0;
  delivered = 0;
  dropped = 0;
  failures = 0;
  /** Records in pushes that threw or rejected (counted in {@link delivered} too: they settled). */
  failedRecords = 0;

  constructor(
    handler: BaseLogHandler,
    options: HandlerQueueOptions,
    events: {
      onSettled: () => void;
      onFailure: (error: unknown) => void;
      onStallChange: (stalled: boolean) => void;
    },
  ) {
    this.handler = handler;
    this.#minLevel = options.minLevel;
    this.#maxQueueBytes = options.maxQueueBytes;
    this.#stallTimeoutMs = options.stallTimeoutMs;
    this.#onSettled = events.onSettled;
    this.#onFailure = events.onFailure;
    this.#onStallChange = events.onStallChange;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  get queuedBatches(): number {
    return this.#items.length - this.#head;
  }

  /** Low enough again for paused sockets to resume. */
  get drained(): boolean {
    return this.#bytes <= this.#maxQueueBytes * RESUME_FRACTION;
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  get full(): boolean {
    return this.#bytes >= this.#maxQueueBytes;
  }

  enqueue(batch: RecordBatch, ticket: number): void {
    if (batch.maxLevel < this.#minLevel && this.queuedBatches === 0 && !this.#running) {
      // Nothing in it for this handler and nothing ahead of it: settled on arrival.
      this.settledTicket = ticket;
      return;
    }
    this.#items.push({ batch, ticket });
    this.#bytes += batch.byteLength;
    if (this.#stalled && this.#bytes > this.#maxQueueBytes) this.#dropOldest();
    if (!this.#running) this.#schedule();
  }

  /** Only while stalled: the handler is not draining, so holding more would only grow memory. */
  #dropOldest(): void {
    while (this.#bytes > this.#maxQueueBytes && this.queuedBatches > 1) {
      const item = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined as unknown as QueuedBatch;
      this.#bytes -= item.batch.byteLength;
      this.dropped += countAtOrAbove(item.batch, this.#minLevel);
      this.settledTicket = item.ticket;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  #schedule(): void {
    this.#running = true;
    setImmediate(() => this.#run());
  }

  #run(): void {
    const batches: RecordBatch[] = [];
    let bytes = 0;
    let lastTicket = this.settledTicket;
    let records = 0;
    while (this.#head < this.#items.length && bytes < MAX_PUSH_BYTES) {
      const item = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined as unknown as QueuedBatch;
      bytes += item.batch.byteLength;
      lastTicket = item.ticket;
      if (item.batch.maxLevel >= this.#minLevel) {
        batches.push(item.batch);
        records += countAtOrAbove(item.batch, this.#minLevel);
      }
    }
    this.#compact();
    this.#inFlightBytes = bytes;
    if (batches.length === 0) {
      this.#settle(lastTicket, 0);
      return;
    }
    let result: void | Promise<void>;
    try {
      result = this.handler[kPushBatches](batches, this.#minLevel);
    } catch (error) {
      this.failures++;
      this.failedRecords += records;
      this.#onFailure(error);
      this.#settle(lastTicket, records);
      return;
    }
    if (result === undefined || typeof (result as Promise<void>).then !== "function") {
      this.#settle(lastTicket, records);
      return;
    }
    this.#inFlight = records;
    // Unref'd: a handler that hangs forever must not also keep the process alive.
    this.#stallTimer = setTimeout(() => this.#setStalled(true), this.#stallTimeoutMs).unref();
    (result as Promise<void>).then(
      () => this.#settle(lastTicket, records),
      (error: unknown) => {
        this.failures++;
        this.failedRecords += records;
        this.#onFailure(error);
        this.#settle(lastTicket, records);
      },
    );
  }

  #setStalled(stalled: boolean): void {
    if (this.#stalled === stalled) return;
    this.#stalled = stalled;
    if (stalled && this.#bytes > this.#maxQueueBytes) this.#dropOldest();
    this.#onStallChange(stalled);
  }

  #settle(ticket: number, records: number): void {
    if (this.#stallTimer !== undefined) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
    if (ticket > this.settledTicket) this.settledTicket = ticket;
    this.delivered += records;
    this.#inFlight = 0;
    this.#bytes -= this.#inFlightBytes;
    this.#inFlightBytes = 0;
    this.#setStalled(false);
    if (this.#head < this.#items.length) {
      this.#schedule();
    } else {
      this.#running = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
    this.#onSettled();
  }

  /** Resolves once everything queued so far has settled. */
  idle(): Promise<void> {
    if (!this.#running && this.queuedBatches === 0) return Promise.resolve();
    return new Promise((wake) => this.#idleWaiters.push(wake));
  }

  /** Records not yet settled (queued, or in a push that has not finished), for the shutdown report. */
  pendingRecords(): number {
    let total = this.#inFlight;
    for (let i = this.#head; i < this.#items.length; i++)
      total += countAtOrAbove(this.#items[i]!.batch, this.#minLevel);
    return total;
  }

  stats(): HandlerStats {
    return {
      name: this.handler.name,
      queuedBatches: this.queuedBatches,
      queuedBytes: this.#bytes,
      delivered: this.delivered,
      dropped: this.dropped,
      failures: this.failures,
      stalled: this.#stalled,
    };
  }
}

function countAtOrAbove(batch: RecordBatch, minLevel: number): number {
  if (batch.minLevel >= minLevel) return batch.count;
  if (batch.maxLevel < minLevel) return 0;
  let n = 0;
  for (let i = 0; i < batch.count; i++) if (batch.level(i) >= minLevel) n++;
  return n;
}
