/** Options of a {@link Backoff}. */
export interface BackoffOptions {
  /** The first delay's ceiling, in ms. */
  readonly minMs: number;
  /** The largest ceiling, in ms. */
  readonly maxMs: number;
  /**
   * `"full"`: each delay is uniform in [0, ceiling], so retries from many processes spread out
   * instead of arriving in lockstep (AWS, "Exponential Backoff And Jitter"). `"equal"`: half the
   * ceiling fixed, half random, where a minimum wait per step is promised (the chat handlers
   * document it). `"none"`: exactly the ceiling, for a retry only this process makes (a local file).
   */
  readonly jitter: "full" | "equal" | "none";
}

/**
 * Exponential backoff: the ceiling starts at `minMs` and doubles per failure up to `maxMs`.
 * `next()` gives the delay before the next attempt and counts a failure; `reset()` after a success.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ minMs: 100, maxMs: 30_000, jitter: "full" });
 * setTimeout(reconnect, backoff.next());
 * ```
 */
export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #failures = 0;
  #planned: number | undefined;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** Failures since the last {@link reset}. */
  get failures(): number {
    return this.#failures;
  }

  /** The ceiling for the `attempt`-th retry (1-based), without counting anything. */
  ceiling(attempt: number): number {
    const { minMs, maxMs } = this.#options;
    // 2 ** 1024 is Infinity, which Math.min turns back into maxMs: no overflow to guard.
    return Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  }

  /** The delay before retry number `attempt` (1-based), jittered; stateless. */
  delay(attempt: number): number {
    const ceiling = this.ceiling(attempt);
    switch (this.#options.jitter) {
      case "full":
        return this.#random() * ceiling;
      case "equal":
        return ceiling / 2 + this.#random() * (ceiling / 2);
      case "none":
        return ceiling;
    }
  }

  /** The delay {@link next} will return, drawn now: for a report that says "retrying in 80 ms". */
  peek(): number {
    this.#planned ??= this.delay(this.#failures + 1);
    return this.#planned;
  }

  /** Counts a failure and returns the delay before the next attempt. */
  next(): number {
    const delay = this.peek();
    this.#planned = undefined;
    this.#failures++;
    return delay;
  }

  /** After a success: the next failure waits the shortest delay again. */
  reset(): void {
    this.#failures = 0;
    this.#planned = undefined;
  }
}
