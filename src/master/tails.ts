import type { Socket } from "node:net";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { TailStats } from "../protocol/status.js";
import type { TailQuery } from "../protocol/tail.js";
import { TailFilter } from "./tail-filter.js";
import type { ResolvedTailOptions } from "./tail-options.js";
import { TailRing } from "./tail-ring.js";
import { TailSubscriber } from "./tail-subscriber.js";

/**
 * `logmux tail` in the master: the ring of kept records and the connected tails. The dispatcher
 * hands it every batch it routes, after decoding, where the handlers get theirs; per batch that
 * is a copy of its newest records into the ring's arena plus one array push per connected tail,
 * so an idle tail costs nothing and a slow one only its own bounded queue.
 */
export class Tails {
  readonly #options: ResolvedTailOptions;
  readonly #baseLevel: number;
  readonly #ring: TailRing;
  readonly #subscribers = new Set<TailSubscriber>();
  /** Records skipped by tails that have since disconnected, so the total never goes down. */
  #skippedByGone = 0;

  constructor(options: ResolvedTailOptions, baseLevel: number) {
    this.#options = options;
    this.#baseLevel = baseLevel;
    this.#ring = new TailRing(options.ring, options.ringBytes);
  }

  /** Every batch the master routes, in routing order. */
  observe(batch: RecordBatch): void {
    this.#ring.push(batch);
    for (const subscriber of this.#subscribers) subscriber.offer(batch);
  }

  /** Whether another tail would pass `tail.maxTails`; Connections refuses it with a reason. */
  get full(): boolean {
    return this.#subscribers.size >= this.#options.maxTails;
  }

  get maxTails(): number {
    return this.#options.maxTails;
  }

  /** A connection that sent TAIL_QUERY: its kept records now, then live ones if it follows. */
  attach(socket: Socket, query: TailQuery): void {
    const filter = new TailFilter(query, this.#baseLevel);
    const subscriber = new TailSubscriber(socket, filter, this.#options.maxQueueBytes);
    this.#subscribers.add(subscriber);
    socket.once("close", () => {
      subscriber.closed = true;
      this.#skippedByGone += subscriber.skipped;
      this.#subscribers.delete(subscriber);
    });
    subscriber.start(this.#ring.select(filter, query.last, query.sinceMs, Date.now()), query.follow);
  }

  /** Shutdown: every tail gets what is queued for it, then its connection ends. */
  finish(): Promise<void> {
    return Promise.all(
      [...this.#subscribers].map(
        (subscriber) =>
          new Promise<void>((done) => {
            subscriber.socket.once("close", () => done());
            subscriber.finish();
          }),
      ),
    ).then(() => {});
  }

  stats(): TailStats[] {
    return [...this.#subscribers].map((subscriber) => subscriber.stats());
  }

  /** Records every tail, connected or gone, has skipped since the master started. */
  get skipped(): number {
    let total = this.#skippedByGone;
    for (const subscriber of this.#subscribers) total += subscriber.skipped;
    return total;
  }
}
