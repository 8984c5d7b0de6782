import { createConnection, type Socket } from "node:net";

/**
 * Exponential backoff with full jitter, so workers that lost the same master do not reconnect in
 * lock-step and hammer it the moment it returns.
 */
export class Backoff {
  readonly #minMs: number;
  readonly #maxMs: number;
  #attempt = 0;

  constructor(minMs: number, maxMs: number) {
    this.#minMs = minMs;
    this.#maxMs = maxMs;
  }

  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#minMs * 2 ** this.#attempt);
    if (ceiling < this.#maxMs) this.#attempt++;
    return Math.round(this.#minMs / 2 + Math.random() * (ceiling - this.#minMs / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Opens a Unix socket connection; errors arrive as 'error' then 'close' on the socket. */
export function connectUnix(path: string): Socket {
  const socket = createConnection({ path, allowHalfOpen: true });
  socket.setNoDelay?.(true);
  return socket;
}
