import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, stat, unlink } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

/**
 * Where this process gzips `plain` to. The pid makes it this process's own: a second master
 * started by mistake on the same file (it fails to listen, but has opened the handler) never
 * writes into, renames or deletes the first one's half-written output.
 */
export function gzipTempName(plain: string, pid = process.pid): string {
  return `${plain}.gz.${pid}.tmp`;
}

/**
 * Gzips `plain` to `plain.gz` without losing it at any point: the output goes to a temp file of
 * this process's own ({@link gzipTempName}), created exclusively, is flushed to disk, renamed into
 * place, and only then is `plain` deleted. A crash before the rename leaves `plain` whole (and a
 * temp file the next start deletes); after it, a complete `.gz` (and perhaps `plain` too, which
 * the next start deletes). Deflating runs on libuv's thread pool, so the event loop only passes
 * chunks along. Rejects on failure or abort, with the temp file removed.
 */
export async function gzipFile(plain: string, signal: AbortSignal): Promise<void> {
  const tmp = gzipTempName(plain);
  let created = false;
  try {
    // The .gz gets the rotated file's own permissions: a log readable only by its group stays so.
    const { mode } = await stat(plain);
    const out = createWriteStream(tmp, { flags: "wx", mode: mode & 0o777 });
    out.once("open", () => {
      created = true;
    });
    await pipeline(createReadStream(plain), createGzip(), out, { signal });
    const handle = await open(tmp, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    signal.throwIfAborted();
    await rename(tmp, `${plain}.gz`);
  } catch (error) {
    if (created) await unlink(tmp).catch(() => {});
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
