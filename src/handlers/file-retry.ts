import { Backoff } from "./kit/backoff.js";
import { pause } from "./kit/pause.js";

/**
 * A write the file refused is tried again after 10 ms, doubling per failure up to 1 s: short at
 * first because many refusals are brief (a big temporary file deleted a moment later), never a hot
 * loop however long the disk stays full, and a disk that has room again is written to within about
 * a second. No jitter: one process retries one file, there is no crowd to spread out, and the
 * schedule stays the one FileLogHandler documents.
 */
const RETRY = { minMs: 10, maxMs: 1000, jitter: "none" } as const;

/** What a refused write still owes the file: `bytes` from `from` on (the part before is on it). */
export interface Unwritten {
  bytes: Buffer;
  from: number;
}

export function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) lines++;
  return lines;
}

/** What a {@link WriteRetry} needs of the handler whose writes it retries. */
export interface RetryHost {
  /** False once the handler is closing: the next refusal is then the last. */
  isOpen(): boolean;
  reportError(error: Error): void;
  warn(message: string): void;
  /** Closed while the file still refused: gives the rest up and returns the error that says how much. */
  giveUp(error: unknown, unwritten: Unwritten): Error;
}

/**
 * Retries one refused write at a time (FileLogHandler's slice): repeats the attempt with backoff
 * until it reports every byte written, reports the 1st, 2nd, 4th, 8th... refusal, and gives up
 * only once the handler is closing.
 */
export class WriteRetry {
  readonly #host: RetryHost;
  readonly #backoff = new Backoff(RETRY);
  /** Aborted to end the current wait between attempts at once. */
  #waiting: AbortController | undefined;
  #current: Promise<void> | undefined;

  constructor(host: RetryHost) {
    this.#host = host;
  }

  /** Pending while a refused write is being retried; settles once the file has all of it. */
  get current(): Promise<void> | undefined {
    return this.#current;
  }

  /**
   * Repeats `attempt` (which returns what stopped it, or undefined once the file has every byte)
   * after `error` stopped the first one. Rejects only once the handler is closing, with the error
   * {@link RetryHost.giveUp} returns.
   */
  start(error: unknown, attempt: () => unknown, unwritten: () => Unwritten): Promise<void> {
    const retrying = this.#loop(error, attempt, unwritten).finally(() => {
      this.#current = undefined;
    });
    this.#current = retrying;
    return retrying;
  }

  /** Ends the current wait at once: a closing handler makes its last attempt now. */
  wake(): void {
    this.#waiting?.abort();
  }

  async #loop(error: unknown, attempt: () => unknown, unwritten: () => Unwritten): Promise<void> {
    const host = this.#host;
    const since = Date.now();
    for (let failures = 1; ; failures++) {
      // The 1st, 2nd, 4th, 8th... failure: an hour-long outage is a dozen reports, not thousands.
      if ((failures & (failures - 1)) === 0) host.reportError(refused(error, failures, since, unwritten()));
      if (!host.isOpen()) throw host.giveUp(error, unwritten());
      const waiting = new AbortController();
      this.#waiting = waiting;
      await pause(this.#backoff.delay(failures), waiting.signal);
      this.#waiting = undefined;
      error = await attempt();
      if (error === undefined) {
        host.warn(`writes work again after ${Date.now() - since} ms and ${failures} refused attempts`);
        return;
      }
    }
  }
}

function refused(error: unknown, failures: number, since: number, unwritten: Unwritten): Error {
  const rest = unwritten.bytes.subarray(unwritten.from);
  return new Error(
    `write refused (attempt ${failures}, ${Date.now() - since} ms since the first): ` +
      `${rest.length} bytes (${countLines(rest)} lines) wait, retrying with backoff up to ${RETRY.maxMs} ms`,
    { cause: error },
  );
}
