import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, stat, unlink } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

/**
 * Gzips `plain` to `plain.gz` without losing it at any point: the output goes to `plain.gz.tmp`,
 * is flushed to disk, renamed into place, and only then is `plain` deleted. A crash before the
 * rename leaves `plain` whole (and a `.gz.tmp` the next start deletes); after it, a complete `.gz`
 * (and perhaps `plain` too, which the next start deletes). Deflating runs on libuv's thread pool,
 * so the event loop only passes chunks along. Rejects on failure or abort, with `.gz.tmp` removed.
 */
export async function gzipFile(plain: string, signal: AbortSignal): Promise<void> {
  const tmp = `${plain}.gz.tmp`;
  try {
    // The .gz gets the rotated file's own permissions: a log readable only by its group stays so.
    const { mode } = await stat(plain);
    await pipeline(createReadStream(plain), createGzip(), createWriteStream(tmp, { mode: mode & 0o777 }), {
      signal,
    });
    const handle = await open(tmp, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    signal.throwIfAborted();
    await rename(tmp, `${plain}.gz`);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  await unlink(plain).catch(() => {});
}

/**
 * Rotated files waiting to be gzipped, done one at a time: a burst of rotations (a small `size`
 * under load) queues them instead of filling the thread pool that the file writes share.
 */
export class GzipQueue {
  readonly #pending: string[] = [];
  readonly #onError: (plain: string, error: unknown) => void;
  #current: { plain: string; abort: AbortController } | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(onError: (plain: string, error: unknown) => void) {
    this.#onError = onError;
  }

  add(plain: string): void {
    if (this.#closed || this.#pending.includes(plain) || this.#current?.plain === plain) return;
    this.#pending.push(plain);
    this.#running ??= this.#drain();
  }

  /** Forgets `plain` (retention is deleting it): taken out of the queue, or its gzip stopped. */
  drop(plain: string): void {
    const at = this.#pending.indexOf(plain);
    if (at !== -1) this.#pending.splice(at, 1);
    if (this.#current?.plain === plain) this.#current.abort.abort();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Finishes the queue; `signal` aborting stops the gzip in progress (its file stays, uncompressed). */
  async close(signal: AbortSignal): Promise<void> {
    const stop = (): void => {
      this.#closed = true;
      this.#pending.length = 0;
      this.#current?.abort.abort();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    try {
      await this.idle();
    } finally {
      signal.removeEventListener("abort", stop);
      this.#closed = true;
    }
  }

  async #drain(): Promise<void> {
    for (let plain = this.#pending.shift(); plain !== undefined; plain = this.#pending.shift()) {
      const abort = new AbortController();
      this.#current = { plain, abort };
      try {
        await gzipFile(plain, abort.signal);
      } catch (error) {
        // Dropped or closing: the file was meant to stop here. Anything else, it stays uncompressed.
        if (!abort.signal.aborted) this.#onError(plain, error);
      }
      this.#current = undefined;
    }
    this.#running = undefined;
  }
}
