import { pause } from "../kit/pause.js";

/**
 * A token bucket (`burst` requests back to back, then one per `minIntervalMs`) plus a hold that
 * rate-limit answers and exhausted buckets set: no request goes out before the hold ends.
 */
export class Pacer {
  readonly #minIntervalMs: number;
  readonly #burst: number;
  #tokens: number;
  #refilledAt = performance.now();
  /** No request before this time (performance.now() ms), from 429s and exhausted buckets. */
  #blockedUntil = 0;

  constructor(minIntervalMs: number, burst: number) {
    this.#minIntervalMs = minIntervalMs;
    this.#burst = burst;
    this.#tokens = burst;
  }

  /** Holds all requests until `ms` from now. */
  holdFor(ms: number): void {
    if (!(ms > 0)) return;
    this.#blockedUntil = Math.max(this.#blockedUntil, performance.now() + ms);
  }

  /** Waits for a token and for any hold; false when `signal` aborted meanwhile. */
  async slot(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const now = performance.now();
      if (this.#minIntervalMs === 0) this.#tokens = this.#burst;
      else if (this.#tokens < this.#burst) {
        const earned = Math.floor((now - this.#refilledAt) / this.#minIntervalMs);
        if (earned > 0) {
          this.#tokens = Math.min(this.#burst, this.#tokens + earned);
          this.#refilledAt =
            this.#tokens === this.#burst ? now : this.#refilledAt + earned * this.#minIntervalMs;
        }
      }
      const tokenWait = this.#tokens > 0 ? 0 : this.#refilledAt + this.#minIntervalMs - now;
      const wait = Math.max(tokenWait, this.#blockedUntil - now);
      if (wait <= 0) {
        if (this.#tokens === this.#burst) this.#refilledAt = now;
        this.#tokens--;
        return true;
      }
      await pause(wait, signal);
    }
  }
}
