import { existsSync, fstatSync, renameSync, unlinkSync } from "node:fs";
import { isAlive } from "../../state/process-alive.js";
import { GzipQueue, gzipTempName } from "./compress.js";
import { localDate, type RotatedFile, RotatedNames } from "./naming.js";
import type { RotationPlan } from "./options.js";

/** Milliseconds since the epoch; tests give one set just before a midnight. */
export type Clock = () => number;
/** Internal: a clock for the rotation timers, set on the `rotate` object (tests only). */
export const kRotationClock = Symbol("logmux.rotationClock");

/** Node's timers treat a delay above 2^31 - 1 ms as 1 ms; a longer wait is taken in steps of this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The next local midnight after `ms`: Date does the time-zone and daylight-saving arithmetic. */
export function nextLocalMidnight(ms: number): number {
  const next = new Date(ms);
  next.setHours(24, 0, 0, 0);
  return next.getTime();
}

export interface RotatorHooks {
  /** A timer says the file is due: the handler rotates it as soon as it is between writes. */
  due(): void;
  reportError(error: unknown): void;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already, which is what was wanted.
  }
}

/**
 * When the active file is to be rotated, what it is renamed to, and what happens to the rotated
 * files after (gzip, retention). It never writes the log itself: the handler asks {@link before}
 * ahead of each slice and rotates between slices, so no slice is ever split across two files.
 */
export class Rotator {
  readonly plan: RotationPlan;
  readonly #path: string;
  readonly #names: RotatedNames;
  readonly #hooks: RotatorHooks;
  readonly #clock: Clock;
  readonly #gzip: GzipQueue;
  /** Bytes on the active file. */
  #bytes = 0;
  /** When the active file began (ms): its rotated name's date, and where `interval` counts from. */
  #began = 0;
  #due = false;
  #timers: NodeJS.Timeout[] = [];
  #closed = false;

  constructor(path: string, plan: RotationPlan, hooks: RotatorHooks, clock: Clock = Date.now) {
    this.plan = plan;
    this.#path = path;
    this.#names = new RotatedNames(path);
    this.#hooks = hooks;
    this.#clock = clock;
    this.#gzip = new GzipQueue((plain, error) =>
      hooks.reportError(new Error(`could not gzip ${plain}; it stays uncompressed`, { cause: error })),
    );
    this.#finishInterrupted();
  }

  /** The active file was opened (at start, after a rotation, after reopen()). */
  opened(fd: number): void {
    const now = this.#clock();
    const stat = fstatSync(fd);
    this.#bytes = stat.size;
    // A file with lines in it began when it was created, if the filesystem says; else now.
    this.#began = stat.size > 0 && stat.birthtimeMs > 0 ? Math.min(stat.birthtimeMs, now) : now;
    this.#due = false;
    this.#arm();
  }

  /** Whether to rotate before `bytes` more go on the file. An empty file is never rotated. */
  before(bytes: number): boolean {
    if (this.#bytes === 0) return false;
    if (this.#due) return true;
    return this.plan.size !== undefined && this.#bytes + bytes > this.plan.size;
  }

  /** Whether a timer made the file due and it has not been rotated yet. */
  get due(): boolean {
    return this.#due && this.#bytes > 0;
  }

  wrote(bytes: number): void {
    this.#bytes += bytes;
  }

  /**
   * Renames the active file to its next rotated name and returns that name; the handler then
   * opens a new file at the path and calls {@link opened} and {@link rotated}. Throws what
   * renameSync throws (the file is then untouched).
   */
  rename(): string {
    const date = localDate(this.#began);
    let seq = this.#names.nextSeq(date);
    let target = this.#names.name(date, seq);
    // Never over an existing file: renameSync would replace it without a word.
    while (existsSync(target) || existsSync(`${target}.gz`)) target = this.#names.name(date, ++seq);
    renameSync(this.#path, target);
    return target;
  }

  /** After a failed rotation: try again once the triggers come round again, not at every slice. */
  postpone(): void {
    this.#bytes = 0;
    this.#began = this.#clock();
    this.#due = false;
    this.#arm();
  }

  /** The file renamed to `target` is complete: queue its gzip, and apply retention. */
  rotated(target: string): void {
    if (this.plan.compress) this.#gzip.add(target);
    this.#retain();
  }

  /** Resolves when no gzip is queued or running. */
  compressed(): Promise<void> {
    return this.#gzip.idle();
  }

  /** Stops the timers and finishes the gzips queued; `signal` aborting leaves the rest uncompressed. */
  close(signal: AbortSignal): Promise<void> {
    this.#closed = true;
    this.#clearTimers();
    return this.#gzip.close(signal);
  }

  /**
   * A previous run may have stopped mid-gzip: the temp file of a process that is gone is
   * incomplete (deleted; the plain file is still there), a `.gz` next to its plain file is
   * complete (the plain one is deleted). Plain rotated files are then queued for gzip when
   * `compress` is on, and retention applied.
   */
  #finishInterrupted(): void {
    for (const file of this.#names.list()) {
      for (const pid of file.tmpPids) {
        // Our own pid here is a dead master's reused: no gzip of this handler has started yet.
        if (pid === process.pid || !isAlive(pid)) unlinkQuietly(gzipTempName(file.plain, pid));
      }
      if (file.hasGz && file.hasPlain) unlinkQuietly(file.plain);
      else if (file.hasPlain && this.plan.compress) this.#gzip.add(file.plain);
    }
    this.#retain();
  }

  /** Deletes the oldest rotated files beyond `keep`, in every form, and nothing else. */
  #retain(): void {
    const files: RotatedFile[] = this.#names.list();
    for (let i = 0; i < files.length - this.plan.keep; i++) {
      const { plain } = files[i]!;
      this.#gzip.drop(plain);
      unlinkQuietly(plain);
      unlinkQuietly(`${plain}.gz`);
      for (const pid of files[i]!.tmpPids) unlinkQuietly(gzipTempName(plain, pid));
    }
  }

  #arm(): void {
    this.#clearTimers();
    if (this.#closed) return;
    const { intervalMs, atMidnight } = this.plan;
    if (intervalMs !== undefined) this.#at(this.#began + intervalMs);
    if (atMidnight) this.#at(nextLocalMidnight(this.#clock()));
  }

  #at(when: number): void {
    const delay = Math.max(0, when - this.#clock());
    const timer = setTimeout(
      () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        // A long wait taken in steps (or a timer that fired a little early) waits on.
        if (this.#clock() < when) this.#at(when);
        else this.#fire();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    // A rotation timer never keeps the process alive on its own.
    timer.unref();
    this.#timers.push(timer);
  }

  #fire(): void {
    if (this.#closed) return;
    if (this.#bytes === 0) {
      // Nothing to rotate: the empty file starts its period (and its date) afresh.
      this.postpone();
      return;
    }
    this.#due = true;
    this.#hooks.due();
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }
}
