import { type FSWatcher, readdirSync, unlinkSync, watch } from "node:fs";
import { join } from "node:path";
import { ProtocolError, UnsafePathError } from "../errors.js";
import { MessageType } from "../protocol/constants.js";
import { decodeBatch, frameType } from "../protocol/decoder.js";
import type { RecordSource } from "../protocol/record-batch.js";
import { describeError } from "../redact.js";
import { spoolDir } from "../state/dirs.js";
import { isAlive } from "../state/process-alive.js";
import { ACTIVE_SUFFIX, CLOSED_SUFFIX, SpoolReader } from "../state/spool.js";
import type { Acks } from "./acks.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Registry } from "./registry.js";

/** How often the spool directory is scanned besides the inotify watch. */
const SPOOL_SCAN_INTERVAL_MS = 30_000;
/** Spool replay hands the handlers this much per event-loop turn. */
const REPLAY_SLICE_BYTES = 4 * 1024 * 1024;
/**
 * After a worker's connection closes without shutdown, its spool (if it wrote one on the way down)
 * is looked for at these delays: the process may still be a zombie for a moment, and a live pid's
 * spool is not ours to take.
 */
const SPOOL_CHECK_DELAYS_MS = [0, 50, 250, 1000, 5000];

/** The parts of the master a replay works with. */
export interface RecoveryParts {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly acks: Acks;
  /** The master's WARNING. */
  warning(message: string): void;
  /** "running" while the master accepts workers, "closing" in shutdown(), "closed" after it. */
  phase(): "running" | "closing" | "closed";
}

/**
 * Delivers spools that workers handed over (`*.closed.spool`) or left behind when they died
 * (`*.spool` whose pid is gone), de-duplicated by instance id and batch seq, then deletes them.
 */
export class SpoolRecovery {
  readonly #dir: string;
  readonly #maxFrameBytes: number;
  readonly #parts: RecoveryParts;
  readonly #replaying = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Spools refused as not ours alone, so each is reported once, not at every scan. */
  readonly #refused = new Set<string>();
  /** Until start(), nothing is read: the master starts recovery only once the directory passed its checks. */
  #started = false;
  #watcher: FSWatcher | undefined;

  constructor(socketPath: string, maxFrameBytes: number, parts: RecoveryParts) {
    this.#dir = spoolDir(socketPath);
    this.#maxFrameBytes = maxFrameBytes;
    this.#parts = parts;
  }

  /**
   * Spools appear while the master runs too: a worker that exited before it ever connected, or
   * that shut down with no acknowledgement, hands one over. inotify tells us at once; the
   * periodic scan catches what a watch can miss (a worker SIGKILLed while spooling under
   * backpressure leaves an active spool, which becomes ours only once its pid is gone). The
   * master has made and checked the directory first (ensureStateDirectories).
   */
  start(): void {
    this.#started = true;
    try {
      this.#watcher = watch(this.#dir, (_event, name) => {
        if (this.#parts.phase() === "running" && typeof name === "string" && name.endsWith(CLOSED_SUFFIX))
          this.scan();
      });
      this.#watcher.on("error", () => {
        // The periodic scan still covers the directory.
      });
      this.#watcher.unref();
    } catch {
      // Unwatchable (unusual filesystems): the periodic scan still covers it.
    }
    const timer = setInterval(() => this.scan(), SPOOL_SCAN_INTERVAL_MS);
    timer.unref();
    this.#timers.add(timer);
    this.scan();
  }

  /**
   * Looks for the spool of a worker whose connection just closed. One that exits on purpose has
   * handed it over before its socket closed (the first, immediate look finds it); one that died
   * mid-spool becomes ours only once its pid is gone, hence the later looks.
   */
  checkAfterClose(instanceId: string): void {
    for (const delay of SPOOL_CHECK_DELAYS_MS) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (this.#parts.phase() === "running") this.scan(instanceId);
      }, delay);
      timer.unref();
      this.#timers.add(timer);
    }
  }

  scan(onlyInstance?: string): void {
    if (!this.#started) return;
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return;
    }
    for (const name of names) {
      const closed = name.endsWith(CLOSED_SUFFIX);
      if (!closed && !name.endsWith(ACTIVE_SUFFIX)) continue;
      const id = name.slice(0, name.length - (closed ? CLOSED_SUFFIX : ACTIVE_SUFFIX).length);
      if (onlyInstance !== undefined && id !== onlyInstance) continue;
      if (this.#replaying.has(id) || this.#parts.registry.isConnected(id)) continue;
      this.#replay(join(this.#dir, name), closed).catch((error: unknown) => {
        process.stderr.write(`logmux: master: replaying spool ${name} failed: ${describeError(error, [])}\n`);
      });
    }
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#watcher?.close();
  }

  async #replay(path: string, closed: boolean): Promise<void> {
    const { registry, dispatcher, acks } = this.#parts;
    const warning = (message: string): void => this.#parts.warning(message);
    let reader: SpoolReader;
    try {
      reader = new SpoolReader(path, this.#maxFrameBytes);
    } catch (error) {
      if (error instanceof UnsafePathError) {
        // Another user could have written it: its records are not ours to replay, nor its file
        // ours to delete.
        if (!this.#refused.has(path)) {
          this.#refused.add(path);
          warning(`Refused ${error.what} ${error.path}: it ${error.reason}. Left in place, not replayed`);
        }
        return;
      }
      warning(`Ignored unreadable spool ${path}: ${describeError(error, [])}`);
      return;
    }
    const { header } = reader;
    if (!closed && isAlive(header.pid)) {
      reader.close(); // its worker still runs and will read it back itself
      return;
    }
    this.#replaying.add(header.instanceId);
    const instance = registry.instanceFor(header.instanceId, header.name, header.pid);
    const source: RecordSource = { name: header.name, nameBytes: header.nameBytes, pid: header.pid };
    let records = 0;
    let lastTicket = 0;
    let lastSeq = 0;
    try {
      for (
        let frames = reader.next(REPLAY_SLICE_BYTES);
        frames.length > 0;
        frames = reader.next(REPLAY_SLICE_BYTES)
      ) {
        for (const frame of frames) {
          if (frameType(frame) !== MessageType.BATCH) {
            throw new ProtocolError("spool holds a frame that is not a BATCH");
          }
          const { seq, batch } = decodeBatch(frame, source);
          if (seq <= instance.dispatchedSeq) continue; // the socket (or an earlier replay) delivered it
          instance.dispatchedSeq = seq;
          registry.received(instance, batch.count);
          records += batch.count;
          lastTicket = dispatcher.dispatch(batch);
          lastSeq = seq;
        }
        await dispatcher.roomInQueues();
      }
      if (reader.damaged) {
        warning(`Spool ${path} of ${header.name} (pid ${header.pid}) ends in a damaged frame`);
      }
    } catch (error) {
      warning(`Stopped replaying spool ${path}: ${describeError(error, [])}`);
    } finally {
      reader.close();
    }
    // Wait for everything dispatched so far, not only what this replay dispatched: the spool of a
    // worker that exited repeats batches its socket delivered moments ago, and the file may go only
    // once those are committed too, or a master crash now would lose them.
    await dispatcher.settled(dispatcher.lastTicket);
    if (lastTicket > 0) acks.commit(instance, lastSeq);
    this.#replaying.delete(header.instanceId);
    if (this.#parts.phase() === "closed") return; // shut down mid-replay: the next master finishes the file
    try {
      unlinkSync(path);
    } catch {
      // Gone already: nothing left to deliver twice.
    }
    if (records > 0) {
      warning(
        `Delivered ${records} records that Worker ${header.name} (pid ${header.pid}) had spooled to disk before it ended`,
      );
    }
  }
}
