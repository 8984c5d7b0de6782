import type { BaseLogHandler } from "../handlers/base.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import { HandlerQueue } from "./handler-queue.js";

/** What the dispatcher tells the master about its handlers. */
export interface DispatcherEvents {
  /** Every handler that is not stalled has settled every ticket up to `ackable`. */
  onSettled(ackable: number): void;
  /** A handler's push threw or rejected. */
  onFailure(queue: HandlerQueue, error: unknown): void;
  /** A handler's push has been pending longer than `stallTimeoutMs`. */
  onStall(queue: HandlerQueue): void;
  /** Reading from workers must stop (a healthy handler's queue is full) or may resume. */
  onPauseChange(paused: boolean): void;
}

export interface DispatcherOptions {
  /** The config's baseLevel: no handler receives records below it. */
  baseLevel: number;
  maxQueueBytes: number;
  stallTimeoutMs: number;
  /** Sees every batch routed, after the handlers' queues got it (`logmux tail`). */
  tap?: ((batch: RecordBatch) => void) | undefined;
}

/**
 * Hands every batch to every handler's own queue under one ticket (a number that grows with each
 * batch, socket or spool alike), and knows which tickets every handler has settled: the basis of
 * acknowledgements. It also owns flow control: while a healthy handler's queue is full the master
 * stops reading sockets, and it resumes once every queue is down to half.
 */
export class Dispatcher {
  readonly queues: readonly HandlerQueue[];
  readonly #events: DispatcherEvents;
  readonly #tap: ((batch: RecordBatch) => void) | undefined;
  #ticket = 0;
  #paused = false;
  #settleWaiters: { ticket: number; resolve: () => void }[] = [];

  constructor(handlers: readonly BaseLogHandler[], options: DispatcherOptions, events: DispatcherEvents) {
    this.#events = events;
    this.#tap = options.tap;
    this.queues = handlers.map((handler) => {
      const queue: HandlerQueue = new HandlerQueue(
        handler,
        {
          minLevel: Math.max(options.baseLevel, handler.level),
          maxQueueBytes: options.maxQueueBytes,
          stallTimeoutMs: options.stallTimeoutMs,
        },
        {
          onSettled: () => this.recheck(),
          onFailure: (error) => events.onFailure(queue, error),
          onStallChange: (stalled) => {
            if (stalled) events.onStall(queue);
            this.recheck();
          },
        },
      );
      return queue;
    });
  }

  /** The ticket of the newest batch dispatched so far. */
  get lastTicket(): number {
    return this.#ticket;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Queues `batch` for every handler; returns its ticket. */
  dispatch(batch: RecordBatch): number {
    const ticket = ++this.#ticket;
    for (const queue of this.queues) queue.enqueue(batch, ticket);
    this.#tap?.(batch);
    if (!this.#paused && this.queues.some((q) => q.full && !q.stalled)) this.#setPaused(true);
    return ticket;
  }

  /** The highest ticket every handler that is not stalled has settled. */
  ackableTicket(): number {
    let ackable = this.#ticket;
    for (const queue of this.queues) {
      if (!queue.stalled && queue.settledTicket < ackable) ackable = queue.settledTicket;
    }
    return ackable;
  }

  /** Resolves once every handler (not stalled) has settled `ticket`. */
  settled(ticket: number): Promise<void> {
    if (this.ackableTicket() >= ticket) return Promise.resolve();
    return new Promise((resolve) => this.#settleWaiters.push({ ticket, resolve }));
  }

  /** Waits while a healthy handler's queue is full, so replaying a big spool cannot flood memory. */
  async roomInQueues(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queues.some((q) => q.full && !q.stalled)) {
      await Promise.race(this.queues.map((q) => q.idle()));
    }
  }

  /** Resolves once everything queued so far has settled in every handler. */
  idle(): Promise<unknown> {
    return Promise.all(this.queues.map((queue) => queue.idle()));
  }

  /**
   * Re-evaluates what is settled: acknowledgements, waiters, flow control. The queues call it as
   * pushes settle; the master calls it when there are no queues to settle anything.
   */
  recheck(): void {
    const ackable = this.ackableTicket();
    this.#events.onSettled(ackable);
    if (this.#settleWaiters.length > 0) {
      this.#settleWaiters = this.#settleWaiters.filter((waiter) => {
        if (waiter.ticket > ackable) return true;
        waiter.resolve();
        return false;
      });
    }
    if (this.#paused && this.queues.every((q) => q.stalled || q.drained)) this.#setPaused(false);
  }

  /** Lets reading resume whatever the queues hold (shutdown drains every connection). */
  release(): void {
    if (this.#paused) this.#setPaused(false);
  }

  #setPaused(paused: boolean): void {
    this.#paused = paused;
    this.#events.onPauseChange(paused);
  }
}
