/** The `worker` label value that the names beyond the bound share. */
export const OTHER_WORKERS = "other";

export interface WorkerTally {
  /** Records the master received from workers of this name (socket and spool). */
  received: number;
  /** Records those workers reported dropping themselves (onBackpressure "drop"). */
  dropped: number;
}

/**
 * Counts per worker name for the metrics endpoint, with a bounded number of names: each name
 * becomes a Prometheus series that lives forever, and a fleet that names workers by pid or
 * request would otherwise grow the master's memory and the Prometheus server's without bound.
 * The first `maxNames` names keep their own tally; later names (and a worker actually named
 * "other") share the {@link OTHER_WORKERS} tally. Counts are per name, not per process: restarts
 * of `api-1` add to the same series, so it only ever grows, as a counter must.
 */
export class WorkerCounts {
  readonly #maxNames: number;
  readonly #byName = new Map<string, WorkerTally>();
  readonly #other: WorkerTally = { received: 0, dropped: 0 };
  #otherUsed = false;

  constructor(maxNames: number) {
    this.#maxNames = maxNames;
  }

  /** Called per batch, not per record: one map lookup. */
  received(name: string, records: number): void {
    this.#tally(name).received += records;
  }

  dropped(name: string, records: number): void {
    this.#tally(name).dropped += records;
  }

  #tally(name: string): WorkerTally {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    if (name === OTHER_WORKERS || this.#byName.size >= this.#maxNames) {
      this.#otherUsed = true;
      return this.#other;
    }
    const tally = { received: 0, dropped: 0 };
    this.#byName.set(name, tally);
    return tally;
  }

  /** Every label value with its tally, in first-seen order; "other" last, once anything used it. */
  *entries(): IterableIterator<readonly [string, Readonly<WorkerTally>]> {
    yield* this.#byName;
    if (this.#otherUsed) yield [OTHER_WORKERS, this.#other];
  }
}
