import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { ProtocolError } from "../errors.js";
import { encodeName } from "../protocol/encoder.js";
import { ensureStateDirectories, openOwnFile, spoolDir } from "./dirs.js";

/** "LMSP": a spool file, not some other file that happens to sit in the directory. */
const SPOOL_MAGIC = 0x50534d4c;
const SPOOL_VERSION = 1;
/** magic u32, version u16, name length u16, pid u32, instance id 8 bytes. */
const SPOOL_HEADER_FIXED = 4 + 2 + 2 + 4 + 8;

export interface SpoolHeader {
  instanceId: string;
  pid: number;
  name: string;
  nameBytes: Buffer;
}

/** A spool its worker is still using (it may read it back); a master leaves it alone while that pid lives. */
export const ACTIVE_SUFFIX = ".spool";
/** A spool its worker handed over (exit or shutdown without a master); any master may deliver it. */
export const CLOSED_SUFFIX = ".closed.spool";

export function spoolPath(socketPath: string, instanceId: string): string {
  return join(spoolDir(socketPath), `${instanceId}${ACTIVE_SUFFIX}`);
}

/**
 * A worker's overflow on disk: BATCH frames exactly as they would go on the wire (seq included,
 * so a master can de-duplicate), appended in order after a small header naming the worker.
 * All I/O is synchronous on purpose: it happens when memory is full or the process is exiting,
 * when there is no event loop to wait for.
 */
export class Spool {
  readonly path: string;
  #fd: number;
  #writeOffset: number;
  #readOffset: number;
  #frames = 0;

  constructor(socketPath: string, header: { instanceId: Buffer; pid: number; name: string }) {
    // Records go only where no other user can read, swap or replay them (UnsafePathError else).
    ensureStateDirectories(socketPath);
    this.path = spoolPath(socketPath, header.instanceId.toString("hex"));
    // Emptied only once it is known to be ours (O_TRUNC would act before the check).
    this.#fd = openOwnFile(this.path, constants.O_RDWR | constants.O_CREAT, "spool");
    ftruncateSync(this.#fd, 0);
    const name = encodeName(header.name);
    const head = Buffer.alloc(SPOOL_HEADER_FIXED + name.length);
    head.writeUInt32LE(SPOOL_MAGIC, 0);
    head.writeUInt16LE(SPOOL_VERSION, 4);
    head.writeUInt16LE(name.length, 6);
    head.writeUInt32LE(header.pid, 8);
    header.instanceId.copy(head, 12, 0, 8);
    name.copy(head, SPOOL_HEADER_FIXED);
    writeFullySync(this.#fd, head, 0);
    this.#writeOffset = head.length;
    this.#readOffset = head.length;
  }

  /** Frames appended and not yet read back. */
  get frames(): number {
    return this.#frames;
  }

  /** Bytes appended and not yet read back. */
  get bytes(): number {
    return this.#writeOffset - this.#readOffset;
  }

  append(frame: Buffer): void {
    writeFullySync(this.#fd, frame, this.#writeOffset);
    this.#writeOffset += frame.length;
    this.#frames++;
  }

  /** Reads frames back, oldest first, up to about `maxBytes` (at least one frame if any). */
  take(maxBytes: number): Buffer[] {
    const out: Buffer[] = [];
    let taken = 0;
    const lengthBytes = Buffer.allocUnsafe(4);
    while (this.#frames > 0 && (out.length === 0 || taken < maxBytes)) {
      readSync(this.#fd, lengthBytes, 0, 4, this.#readOffset);
      const frame = Buffer.allocUnsafe(4 + lengthBytes.readUInt32LE(0));
      readSync(this.#fd, frame, 0, frame.length, this.#readOffset);
      this.#readOffset += frame.length;
      this.#frames--;
      taken += frame.length;
      out.push(frame);
    }
    return out;
  }

  /**
   * Closes the file and renames it `<id>.closed.spool`: the worker is done with it, so a master
   * may deliver it (now, or when one next starts). Returns the new path.
   */
  handOver(): string {
    closeSync(this.#fd);
    const closed = this.path.slice(0, -ACTIVE_SUFFIX.length) + CLOSED_SUFFIX;
    renameSync(this.path, closed);
    return closed;
  }

  /** Deletes the file; a spool that was read back completely has nothing left to protect. */
  remove(): void {
    closeSync(this.#fd);
    try {
      unlinkSync(this.path);
    } catch {
      // Already removed: the goal state.
    }
  }
}

function writeFullySync(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/**
 * Reads a spool file left behind by a worker (master side), a slice at a time so a large spool
 * never sits in memory whole. The content is validated like socket input: a damaged file yields
 * the frames before the damage and then reports it.
 */
export class SpoolReader {
  readonly path: string;
  readonly header: SpoolHeader;
  readonly #fd: number;
  readonly #size: number;
  readonly #maxFrameBytes: number;
  #offset: number;
  /** Set when the file ended in the middle of a frame or held an impossible length. */
  damaged = false;

  constructor(path: string, maxFrameBytes: number) {
    this.path = path;
    this.#maxFrameBytes = maxFrameBytes;
    // Only a spool this user wrote is replayed as this user's records (UnsafePathError else).
    this.#fd = openOwnFile(path, constants.O_RDONLY, "spool");
    try {
      this.#size = fstatSync(this.#fd).size;
      const fixed = Buffer.alloc(SPOOL_HEADER_FIXED);
      const got = readSync(this.#fd, fixed, 0, SPOOL_HEADER_FIXED, 0);
      if (got !== SPOOL_HEADER_FIXED || fixed.readUInt32LE(0) !== SPOOL_MAGIC) {
        throw new ProtocolError(`${path} is not a logmux spool file`);
      }
      const version = fixed.readUInt16LE(4);
      if (version !== SPOOL_VERSION)
        throw new ProtocolError(`${path} has unsupported spool version ${version}`);
      const nameLength = fixed.readUInt16LE(6);
      const nameBytes = Buffer.alloc(nameLength);
      if (readSync(this.#fd, nameBytes, 0, nameLength, SPOOL_HEADER_FIXED) !== nameLength) {
        throw new ProtocolError(`${path} ends inside its header`);
      }
      this.header = {
        instanceId: fixed.toString("hex", 12, 20),
        pid: fixed.readUInt32LE(8),
        name: nameBytes.toString("utf8"),
        nameBytes,
      };
      this.#offset = SPOOL_HEADER_FIXED + nameLength;
    } catch (error) {
      closeSync(this.#fd);
      throw error;
    }
  }

  /** The next frames, up to about `maxBytes`; an empty array at the end (or at damage). */
  next(maxBytes: number): Buffer[] {
    const frames: Buffer[] = [];
    const lengthBytes = Buffer.alloc(4);
    let taken = 0;
    while (taken < maxBytes && this.#offset < this.#size) {
      if (this.#offset + 4 > this.#size) {
        this.damaged = true;
        this.#offset = this.#size;
        break;
      }
      readSync(this.#fd, lengthBytes, 0, 4, this.#offset);
      const body = lengthBytes.readUInt32LE(0);
      if (body < 1 || body > this.#maxFrameBytes || this.#offset + 4 + body > this.#size) {
        this.damaged = true;
        this.#offset = this.#size;
        break;
      }
      const frame = Buffer.allocUnsafe(4 + body);
      readSync(this.#fd, frame, 0, frame.length, this.#offset);
      this.#offset += frame.length;
      taken += frame.length;
      frames.push(frame);
    }
    return frames;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
