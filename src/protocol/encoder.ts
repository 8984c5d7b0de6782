import { nowMs, setMsAsNs } from "./clock.js";
import {
  BATCH_COUNT_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_SEQ_OFFSET,
  type EndKind,
  FRAME_HEADER_BYTES,
  HELLO_FIXED_BYTES,
  MAGIC,
  MAX_END_TEXT_BYTES,
  MAX_NAME_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  RECORD_FLAG_DATA,
  RECORD_FLAG_VALUES,
  RECORD_HEADER_BYTES,
  RECORD_LENGTH_OFFSET,
  RECORD_LEVEL_OFFSET,
  SHUTDOWN_FIXED_BYTES,
} from "./constants.js";
import { writeU64 } from "./u64.js";

/** Worst case UTF-8 bytes per UTF-16 code unit. */
const MAX_UTF8_PER_UNIT = 3;
/**
 * Fewer records than this are written one by one: a join and a slice cost more than the binding
 * calls they save. More than MAX_RUN are split, so one join's string stays a young-generation object.
 */
const MIN_RUN = 4;
const MAX_RUN = 512;
/**
 * Messages up to this many code units are copied by a byte loop when ASCII. Measured on the 2-core
 * VM: the loop costs ~1.5-2 ns a character, `utf8Write` ~48 ns whatever the length (14 characters:
 * 30 against 48 ns; 54: 78-98 against 50).
 */
const SHORT_MESSAGE = 24;
/** What separates a run's messages in its joined text: one record header's worth of bytes (see #appendRun). */
const RECORD_GAP = "\0".repeat(RECORD_HEADER_BYTES);

/**
 * `Buffer#utf8Write` is the binding behind `buf.write(text, offset, "utf8")` without its argument
 * juggling: measured on this project's 2-core VM at 127 ns for a 50-byte message against 153 ns
 * for `write` and 186 ns for a JS byte loop (bench/, `npm run bench`).
 */
interface FastUtf8 {
  utf8Write(text: string, offset: number): number;
}

/**
 * Appends records to one preallocated BATCH frame. The frame header is reserved up front and filled
 * by {@link seal}, so the buffer goes to the socket as it is, with no copy.
 */
export class BatchBuilder {
  readonly buffer: Buffer;
  /** The same memory as a plain Uint8Array, for the byte loops (cheaper to index than a Buffer). */
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #valuesView: DataView | undefined;
  #valuesSource: Uint8Array | undefined;
  #offset = BATCH_HEADER_BYTES;
  /** The separator of the last run joined with gaps (see #appendRun), and the section it is for. */
  #gap = RECORD_GAP;
  #gapSection: Uint8Array | undefined;
  /** Whether {@link #gap} holds its section's bytes (with their length before them), not NULs. */
  #gapCarries = false;
  #count = 0;
  #maxLevel = 0;
  /** The message {@link appendAt} last encoded, and where its bytes are in this batch. */
  #lastMessage: string | undefined;
  #lastMessageAt = 0;
  #lastMessageBytes = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(capacity, BATCH_HEADER_BYTES + RECORD_HEADER_BYTES));
    this.#view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
    this.#bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }

  get count(): number {
    return this.#count;
  }

  /** Frame bytes used so far, header included. */
  get byteLength(): number {
    return this.#offset;
  }

  get maxLevel(): number {
    return this.#maxLevel;
  }

  /**
   * Appends one record stamped with the current time. The first `valuesLength` bytes of `values`
   * are the record's values section (ValueWriter: argument count, arguments, pairs); `values` is
   * undefined for a plain message. Returns false, leaving the batch unchanged, when it does not
   * fit in the remaining capacity.
   */
  append(
    level: number,
    message: string | Uint8Array,
    data: Uint8Array | undefined,
    values?: Uint8Array | undefined,
    valuesLength = values?.length ?? 0,
  ): boolean {
    // One clock read and no BigInt per record (see clock.ts).
    return this.appendAt(nowMs(), level, message, data, values, valuesLength);
  }

  /**
   * {@link append} for a record stamped earlier: `timeMs` (fractional milliseconds since the
   * epoch, as {@link nowMs} gives) is when the log call was made, which for a record the worker
   * held between the call and the batch is not now.
   */
  appendAt(
    timeMs: number,
    level: number,
    message: string | Uint8Array,
    data: Uint8Array | undefined,
    values: Uint8Array | undefined,
    valuesLength: number,
  ): boolean {
    const buf = this.buffer;
    const start = this.#offset;
    const dataBytes = data === undefined ? 0 : 4 + data.length;
    const extraBytes = values === undefined ? dataBytes : dataBytes + 4 + valuesLength;
    const messageAt = start + RECORD_HEADER_BYTES;
    const view = this.#view;
    let messageBytes: number;
    if (typeof message === "string" && message === this.#lastMessage) {
      // The text of the last record appended one by one (a %-template, a constant message): its
      // bytes are still where that record put them, and a word copy beats encoding it again.
      messageBytes = this.#lastMessageBytes;
      if (messageAt + messageBytes + extraBytes > buf.length) return false;
      this.#copyWords(view, this.#bytes, this.#lastMessageAt, messageBytes, messageAt);
    } else if (typeof message === "string") {
      const length = message.length;
      const room = buf.length - messageAt - extraBytes;
      if (length * MAX_UTF8_PER_UNIT > room && Buffer.byteLength(message, "utf8") > room) return false;
      messageBytes = -1;
      if (length <= SHORT_MESSAGE) {
        // A structured call's message is short: a byte loop beats the binding's fixed cost.
        const bytes = this.#bytes;
        let k = 0;
        for (; k < length; k++) {
          const code = message.charCodeAt(k);
          if (code >= 0x80) break;
          bytes[messageAt + k] = code;
        }
        if (k === length) messageBytes = length;
      }
      if (messageBytes < 0) messageBytes = (buf as unknown as FastUtf8).utf8Write(message, messageAt);
      this.#lastMessage = message;
      this.#lastMessageAt = messageAt;
      this.#lastMessageBytes = messageBytes;
    } else {
      messageBytes = message.length;
      if (messageAt + messageBytes + extraBytes > buf.length) return false;
      buf.set(message, messageAt);
    }
    setMsAsNs(view, start, timeMs);
    let flags = level;
    if (data !== undefined) flags |= RECORD_FLAG_DATA;
    if (values !== undefined) flags |= RECORD_FLAG_VALUES;
    buf[start + RECORD_LEVEL_OFFSET] = flags;
    view.setUint32(start + RECORD_LENGTH_OFFSET, messageBytes, true);
    let end = messageAt + messageBytes;
    if (data !== undefined) {
      view.setUint32(end, data.length, true);
      buf.set(data, end + 4);
      end += dataBytes;
    }
    if (values !== undefined) {
      view.setUint32(end, valuesLength, true);
      end = this.#copyValues(values, valuesLength, end + 4);
    }
    this.#offset = end;
    this.#count++;
    if (level > this.#maxLevel) this.#maxLevel = level;
    return true;
  }

  /**
   * Appends plain records `from` to `to` (a string message each, and a child's section or
   * undefined) stamped with their own times, as {@link appendAt} would one by one. Returns how
   * many it appended: fewer when the batch is full.
   *
   * Runs of ASCII messages are written with one `utf8Write` of their concatenation (see
   * {@link #appendRun}). The binding's fixed cost, paid once per record otherwise, is most of what
   * writing a short message costs: measured with valgrind, ~900 instructions for a 54-byte message
   * one by one, ~550 in a run. A run with any other character (UTF-8 longer than its UTF-16) is
   * written record by record instead.
   */
  appendPlainRun(
    times: Float64Array,
    levels: Uint8Array,
    messages: readonly string[],
    sections: readonly (Uint8Array | undefined)[],
    from: number,
    to: number,
  ): number {
    let i = from;
    while (i < to) {
      const appended = this.#appendRun(times, levels, messages, sections, i, to);
      if (appended > 0) {
        i += appended;
        continue;
      }
      // Not ASCII (-appended records), or too few fit to be worth a join (0): one by one.
      const last = appended < 0 ? i - appended : Math.min(to, i + MIN_RUN);
      for (; i < last; i++) {
        const section = sections[i];
        const length = section === undefined ? 0 : section.length;
        if (!this.appendAt(times[i]!, levels[i]!, messages[i]!, undefined, section, length)) return i - from;
      }
    }
    return to - from;
  }

  /**
   * The next run of records from `i` on (at most MAX_RUN, as many as fit), in one join and one
   * `utf8Write`. Returns how many it appended; 0 when fewer than MIN_RUN fit; -n when the n
   * records that fit are not all ASCII, leaving the batch as it was.
   *
   * When every record has the same section or none (one logger's, or one child's), the messages
   * are joined with a gap as long as what goes between two of them (the section, then the next
   * record's header) and written where the first message goes, which puts every message where it
   * belongs; the sections and headers then overwrite the gaps, and nothing is moved. Otherwise the
   * gaps would vary, so the messages are joined without them, written after the room the run's
   * records take, and each moved down into place. The whole run is one function, with no helper for its
   * loops: TurboFan compiled such a helper on its own once its loop got hot and again inlined here,
   * and every worker process pays for that compile (measured with --trace-opt, ~4 ms of ~20).
   */
  #appendRun(
    times: Float64Array,
    levels: Uint8Array,
    messages: readonly string[],
    sections: readonly (Uint8Array | undefined)[],
    i: number,
    to: number,
  ): number {
    const buf = this.buffer;
    const start = this.#offset;
    // How many of the next records fit with their text after them (3 bytes a code unit there,
    // so utf8Write can never cut the text short, and its count tells ASCII apart).
    let k = i;
    let units = 0;
    let need = 0;
    // The section every record of the run has, when they all have the same one (one child's).
    const shared = sections[i];
    let uniform = true;
    for (const last = Math.min(to, i + MAX_RUN); k < last; k++) {
      const length = messages[k]!.length;
      const section = sections[k];
      let next = need + RECORD_HEADER_BYTES + length;
      if (section !== undefined) next += 4 + section.length;
      if (section !== shared) uniform = false;
      if (start + next + MAX_UTF8_PER_UNIT * (units + length) > buf.length) break;
      need = next;
      units += length;
    }
    const count = k - i;
    if (count < MIN_RUN) return 0;
    const run = i === 0 && k === messages.length ? messages : messages.slice(i, k);
    const view = this.#view;
    let at = start;
    let maxLevel = this.#maxLevel;
    if (uniform) {
      // What follows each message up to the next one: the shared section (if any) and a header.
      const tail = shared === undefined ? 0 : 4 + shared.length;
      const gap = tail + RECORD_HEADER_BYTES;
      if (shared !== this.#gapSection) this.#setGap(shared, tail);
      const written = (buf as unknown as FastUtf8).utf8Write(
        run.join(this.#gap),
        start + RECORD_HEADER_BYTES,
      );
      if (written !== units + (count - 1) * gap) return -count;
      const flag = shared === undefined ? 0 : RECORD_FLAG_VALUES;
      // Whether the join already put the section after every message but the last.
      const carried = this.#gapCarries;
      const last = k - 1;
      for (let r = i; r < k; r++) {
        const level = levels[r]!;
        const length = run[r - i]!.length;
        setMsAsNs(view, at, times[r]!);
        buf[at + RECORD_LEVEL_OFFSET] = level | flag;
        view.setUint32(at + RECORD_LENGTH_OFFSET, length, true);
        at += RECORD_HEADER_BYTES + length;
        if (shared !== undefined) {
          if (carried && r !== last) {
            at += tail;
          } else {
            view.setUint32(at, shared.length, true);
            at = this.#copyValues(shared, shared.length, at + 4);
          }
        }
        if (level > maxLevel) maxLevel = level;
      }
    } else {
      let src = start + need;
      if ((buf as unknown as FastUtf8).utf8Write(run.join(""), src) !== units) return -count;
      const bytes = this.#bytes;
      for (let r = i; r < k; r++) {
        const level = levels[r]!;
        const length = run[r - i]!.length;
        const section = sections[r];
        setMsAsNs(view, at, times[r]!);
        buf[at + RECORD_LEVEL_OFFSET] = section === undefined ? level : level | RECORD_FLAG_VALUES;
        view.setUint32(at + RECORD_LENGTH_OFFSET, length, true);
        at += RECORD_HEADER_BYTES;
        // Never above its source (the text starts after every record of the run), so earlier
        // moves never overwrite text still to be moved.
        bytes.copyWithin(at, src, src + length);
        src += length;
        at += length;
        if (section !== undefined) {
          view.setUint32(at, section.length, true);
          at = this.#copyValues(section, section.length, at + 4);
        }
        if (level > maxLevel) maxLevel = level;
      }
    }
    this.#offset = at;
    this.#count += count;
    this.#maxLevel = maxLevel;
    return count;
  }

  /**
   * The separator for runs whose records all have `section` (`tail` bytes with its length before
   * it; none for undefined), then a record header's NULs. A section of bytes below 0x80 (a
   * child's bindings of short ASCII strings and small integers) goes into the text itself, so
   * the run's one utf8Write also writes every record's section but the last, whose message ends
   * the join; other bytes would turn into two each, so the gap is NULs and each is copied.
   * Rebuilt only when the section changes: once per child whose records follow another's.
   */
  #setGap(section: Uint8Array | undefined, tail: number): void {
    this.#gapSection = section;
    this.#gapCarries = false;
    if (section === undefined) {
      this.#gap = RECORD_GAP;
      return;
    }
    const bytes = Buffer.alloc(tail);
    bytes.writeUInt32LE(section.length, 0);
    bytes.set(section, 4);
    this.#gapCarries = bytes.every((byte) => byte < 0x80);
    this.#gap = (this.#gapCarries ? bytes.toString("latin1") : "\0".repeat(tail)) + RECORD_GAP;
  }

  /**
   * Copies a values section four bytes at a time through DataViews: measured at 15 ns for 44
   * bytes against 32 for a byte loop and 53 for `set()` of a subarray. The source is nearly
   * always the same writer's memory, so its DataView is kept rather than made per record.
   */
  #copyValues(values: Uint8Array, length: number, at: number): number {
    if (length >= SET_MIN_BYTES) {
      this.#bytes.set(length === values.length ? values : values.subarray(0, length), at);
      return at + length;
    }
    let from = this.#valuesView;
    // By identity: reading `.buffer` of a typed array costs more than the whole copy.
    if (from === undefined || this.#valuesSource !== values) {
      from = new DataView(values.buffer, values.byteOffset, values.length);
      this.#valuesView = from;
      this.#valuesSource = values;
    }
    return this.#copyWords(from, values, 0, length, at);
  }

  /**
   * Copies `length` bytes from `start` in a source (its DataView and bytes) to `at` in the batch,
   * four at a time; returns the end. The source may be the batch itself, at an earlier record.
   * The master's copyBytes (src/format/sink.ts) is the same loop over its own {bytes, words}
   * pairs: each copy sees one argument shape in its process, and the worker bundle does not load
   * the formatters' module for ten lines.
   */
  #copyWords(fromView: DataView, fromBytes: Uint8Array, start: number, length: number, at: number): number {
    const to = this.#view;
    let k = 0;
    for (const words = length - 3; k < words; k += 4)
      to.setInt32(at + k, fromView.getInt32(start + k, true), true);
    const bytes = this.#bytes;
    for (; k < length; k++) bytes[at + k] = fromBytes[start + k]!;
    return at + length;
  }

  /**
   * Empties the batch so its buffer can take the next one. Only for a batch whose sealed frame
   * nobody reads any more (the master acknowledged it): the frame is a view of the same memory.
   */
  reset(): void {
    // Its bytes are about to be overwritten.
    this.#lastMessage = undefined;
    this.#offset = BATCH_HEADER_BYTES;
    this.#count = 0;
    this.#maxLevel = 0;
  }

  /** Fills in the frame header and returns the frame: a view of the used part of the buffer. */
  seal(seq: number): Buffer {
    const buf = this.buffer;
    buf.writeUInt32LE(this.#offset - 4, 0);
    buf[4] = MessageType.BATCH;
    writeU64(buf, seq, BATCH_SEQ_OFFSET);
    buf.writeUInt32LE(this.#count, BATCH_COUNT_OFFSET);
    return buf.subarray(0, this.#offset);
  }
}

/** Bytes a record needs in a batch (exact), for sizing a dedicated buffer for an oversized record. */
export function recordBytes(
  message: string | Uint8Array,
  data: Uint8Array | undefined,
  values?: Uint8Array | undefined,
): number {
  const messageBytes = typeof message === "string" ? Buffer.byteLength(message, "utf8") : message.length;
  return (
    RECORD_HEADER_BYTES +
    messageBytes +
    (data === undefined ? 0 : 4 + data.length) +
    (values === undefined ? 0 : 4 + values.length)
  );
}

/**
 * Below this, a word loop beats `set()`, which pays a fixed cost per call whatever the length
 * (the crossover sink.ts measured for the same copy was between 128 and 192 bytes).
 */
const SET_MIN_BYTES = 160;

function frame(type: number, bodyBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
  buf.writeUInt32LE(1 + bodyBytes, 0);
  buf[4] = type;
  return buf;
}

export interface HelloFields {
  pid: number;
  /** 8 random bytes naming this worker instance across reconnects. */
  instanceId: Buffer;
  heartbeatIntervalMs: number;
  name: string;
}

/** Cuts UTF-8 `bytes` to at most `max` bytes without splitting a character. */
function cutUtf8(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Cuts `name` to at most MAX_NAME_BYTES of UTF-8 without splitting a character. */
export function encodeName(name: string): Buffer {
  return cutUtf8(Buffer.from(name, "utf8"), MAX_NAME_BYTES);
}

export function encodeHello(fields: HelloFields): Buffer {
  const name = encodeName(fields.name);
  const buf = frame(MessageType.HELLO, HELLO_FIXED_BYTES + name.length);
  let at = FRAME_HEADER_BYTES;
  buf.writeUInt32LE(MAGIC, at);
  buf.writeUInt16LE(PROTOCOL_VERSION, at + 4);
  buf.writeUInt16LE(0, at + 6);
  buf.writeUInt32LE(fields.pid, at + 8);
  fields.instanceId.copy(buf, at + 12, 0, 8);
  buf.writeUInt32LE(fields.heartbeatIntervalMs, at + 20);
  buf.writeUInt16LE(name.length, at + 24);
  at += HELLO_FIXED_BYTES;
  name.copy(buf, at);
  return buf;
}

export function encodeHeartbeat(
  nowNsWriter: (buf: Buffer, offset: number) => void,
  nextCheckInMs: number,
): Buffer {
  const buf = frame(MessageType.HEARTBEAT, 12);
  nowNsWriter(buf, FRAME_HEADER_BYTES);
  buf.writeUInt32LE(nextCheckInMs, FRAME_HEADER_BYTES + 8);
  return buf;
}

/** How a worker ended, for SHUTDOWN. */
export interface WorkerEnd {
  kind: EndKind;
  /** Exit code (EXIT, UNCAUGHT) or signal number (SIGNAL); 0 for SHUTDOWN. */
  detail: number;
  /** Signal name or error description; cut to MAX_END_TEXT_BYTES. */
  text: string;
}

export function encodeShutdown(lastSeq: number, end: WorkerEnd): Buffer {
  const text = cutUtf8(Buffer.from(end.text, "utf8"), MAX_END_TEXT_BYTES);
  const buf = frame(MessageType.SHUTDOWN, SHUTDOWN_FIXED_BYTES + text.length);
  const at = FRAME_HEADER_BYTES;
  writeU64(buf, lastSeq, at);
  buf[at + 8] = end.kind;
  buf.writeInt32LE(end.detail | 0, at + 9);
  buf.writeUInt16LE(text.length, at + 13);
  text.copy(buf, at + SHUTDOWN_FIXED_BYTES);
  return buf;
}

export function encodeDrops(droppedTotal: number): Buffer {
  const buf = frame(MessageType.DROPS, 8);
  writeU64(buf, droppedTotal, FRAME_HEADER_BYTES);
  return buf;
}

export function encodeStatusQuery(): Buffer {
  return frame(MessageType.STATUS_QUERY, 0);
}

export function encodeWelcome(lastCommittedSeq: number): Buffer {
  const buf = frame(MessageType.WELCOME, 14);
  buf.writeUInt32LE(MAGIC, FRAME_HEADER_BYTES);
  buf.writeUInt16LE(PROTOCOL_VERSION, FRAME_HEADER_BYTES + 4);
  writeU64(buf, lastCommittedSeq, FRAME_HEADER_BYTES + 6);
  return buf;
}

export function encodeAck(seq: number): Buffer {
  const buf = frame(MessageType.ACK, 8);
  writeU64(buf, seq, FRAME_HEADER_BYTES);
  return buf;
}

export function encodeStatus(json: string): Buffer {
  const body = Buffer.from(json, "utf8");
  const buf = frame(MessageType.STATUS, body.length);
  body.copy(buf, FRAME_HEADER_BYTES);
  return buf;
}

export function encodeGoodbye(): Buffer {
  return frame(MessageType.GOODBYE, 0);
}

export function encodeError(reason: string): Buffer {
  const body = Buffer.from(reason, "utf8");
  const buf = frame(MessageType.ERROR, body.length);
  body.copy(buf, FRAME_HEADER_BYTES);
  return buf;
}
