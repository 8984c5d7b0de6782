/** Drops are summed over this period, so a flood yields one WARNING per second, not one per record. */
export const DROP_REPORT_INTERVAL_MS = 1000;

/**
 * Sums records a handler had to drop and reports the total at most once per interval, with an
 * exact count. The timer is unref'd: a pending report never keeps the process alive, and
 * {@link flush} (called on close) says what is left.
 *
 * @example
 * ```ts
 * const drops = new DropReporter((n) => this.warn(`dropped ${n} records (oldest first)`));
 * drops.add(evicted);
 * ```
 */
export class DropReporter {
  readonly #report: (count: number) => void;
  readonly #intervalMs: number;
  #unreported = 0;
  #total = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(report: (count: number) => void, intervalMs = DROP_REPORT_INTERVAL_MS) {
    this.#report = report;
    this.#intervalMs = intervalMs;
  }

  /** Every drop counted so far, reported or not. */
  get total(): number {
    return this.#total;
  }

  add(count: number): void {
    if (count <= 0) return;
    this.#unreported += count;
    this.#total += count;
    this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs).unref();
  }

  /** Reports what is unreported now and stops the timer. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const count = this.#unreported;
    if (count === 0) return;
    this.#unreported = 0;
    this.#report(count);
  }
}

/** "1 record", "1,001 records" (`grouped`, as the chat handlers print counts) or "1001 records". */
export function plural(n: number, word: string, grouped = true): string {
  return `${grouped ? n.toLocaleString("en-US") : n} ${word}${n === 1 ? "" : "s"}`;
}
