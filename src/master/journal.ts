import { closeSync, constants, fstatSync, ftruncateSync, readFileSync, renameSync, writeSync } from "node:fs";
import { UnsafePathError } from "../errors.js";
import { readU64, writeU64 } from "../protocol/u64.js";
import { ensureStateDirectories, journalPath, openOwnFile } from "../state/dirs.js";

/** 8-byte instance id + u64 seq. */
const ENTRY_BYTES = 16;
/** Rewritten as one entry per instance once the append log passes this size. */
const COMPACT_AFTER_BYTES = 1024 * 1024;
/** Instances kept on compaction; the oldest beyond this are forgotten (they have long gone). */
const MAX_INSTANCES = 4096;
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
const WHAT = "commit journal";

/**
 * The master's memory of what it has committed (every handler settled) per worker instance, on
 * disk, so a master that restarts after a crash tells reconnecting workers what it already wrote
 * and they do not send it twice. An append-only log of (instance id, seq) entries, written
 * synchronously as batches settle; the last entry per instance wins.
 */
export class CommitJournal {
  readonly path: string;
  readonly #committed = new Map<string, number>();
  #fd: number | undefined;
  #size: number;
  readonly #entry = Buffer.alloc(ENTRY_BYTES);

  /**
   * Throws {@link UnsafePathError} when the state directory or the journal is not this user's
   * alone: a journal another user wrote could claim batches committed that never were, and the
   * master would then skip them as duplicates.
   */
  constructor(socketPath: string) {
    this.path = journalPath(socketPath);
    ensureStateDirectories(socketPath);
    let existing: Buffer | undefined;
    try {
      const fd = openOwnFile(this.path, constants.O_RDONLY, WHAT);
      try {
        existing = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (error instanceof UnsafePathError) throw error;
      existing = undefined; // none yet, or unreadable: start afresh
    }
    if (existing !== undefined) {
      // A torn final entry (crash mid-write) is ignored: it only makes the journal more cautious.
      for (let at = 0; at + ENTRY_BYTES <= existing.length; at += ENTRY_BYTES) {
        const id = existing.toString("hex", at, at + 8);
        this.#committed.delete(id); // re-insert so Map order tracks recency
        this.#committed.set(id, readU64(existing, at + 8));
      }
    }
    this.#fd = openOwnFile(this.path, APPEND, WHAT);
    this.#size = fstatSync(this.#fd).size;
    if (this.#size % ENTRY_BYTES !== 0 || this.#size > COMPACT_AFTER_BYTES) this.#compact();
  }

  /** Highest committed seq for an instance, or 0 when it is unknown. */
  committed(instanceId: string): number {
    return this.#committed.get(instanceId) ?? 0;
  }

  record(instanceId: string, seq: number): void {
    if (this.#fd === undefined || (this.#committed.get(instanceId) ?? 0) >= seq) return;
    this.#committed.delete(instanceId);
    this.#committed.set(instanceId, seq);
    const entry = this.#entry;
    entry.write(instanceId, 0, 8, "hex");
    writeU64(entry, seq, 8);
    writeSync(this.#fd, entry);
    this.#size += ENTRY_BYTES;
    if (this.#size > COMPACT_AFTER_BYTES) this.#compact();
  }

  #compact(): void {
    while (this.#committed.size > MAX_INSTANCES) {
      const oldest = this.#committed.keys().next().value as string;
      this.#committed.delete(oldest);
    }
    const out = Buffer.alloc(this.#committed.size * ENTRY_BYTES);
    let at = 0;
    for (const [id, seq] of this.#committed) {
      out.write(id, at, 8, "hex");
      writeU64(out, seq, at + 8);
      at += ENTRY_BYTES;
    }
    const temp = `${this.path}.tmp`;
    // Emptied only once it is known to be ours (O_TRUNC would act before the check).
    const fd = openOwnFile(temp, constants.O_WRONLY | constants.O_CREAT, WHAT);
    ftruncateSync(fd, 0);
    writeSync(fd, out);
    closeSync(fd);
    renameSync(temp, this.path);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = openOwnFile(this.path, APPEND, WHAT);
    this.#size = out.length;
  }

  /** Idempotent; later records are ignored (the master is gone). */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
