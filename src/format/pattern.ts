import { LEVEL_NAMES } from "../levels.js";
import { nsToMs } from "../protocol/clock.js";
import {
  RECORD_FLAG_DATA,
  RECORD_FLAGS_EXTRA,
  RECORD_HEADER_BYTES,
  RECORD_LENGTH_OFFSET,
  RECORD_LEVEL_MASK,
  RECORD_LEVEL_OFFSET,
} from "../protocol/constants.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { renderData } from "./data.js";
import {
  type ByteOp,
  type CachedLine,
  EMPTY,
  LineCache,
  OP_ASCTIME,
  OP_FIELD,
  OP_LEVEL,
  OP_LITERAL,
  OP_MESSAGE,
  OP_NAME,
} from "./line-cache.js";
import { fieldText, logfmt } from "./logfmt.js";
import { LogfmtWriter } from "./logfmt-bytes.js";
import { compilePattern, type Field, FORMAT_KEYS, type Segment } from "./pattern-syntax.js";
import { type ByteSink, type Bytes, bytesOf, copyBytes } from "./sink.js";
import { errorTrailer } from "./stack.js";
import { ASCTIME_BYTES, AsctimeCache } from "./time.js";

export { type Field, FORMAT_KEYS };

/** What `%(name)s` prints for a field the record does not have. */
export const MISSING_FIELD_TEXT = "-";

/** Values of one record that fields draw on; the same shape for object and byte formatting. */
interface RecordView {
  ms: number;
  level: number;
  name: string;
  message: string;
  pid: number;
  data: Uint8Array | undefined;
  fields: Readonly<Record<string, unknown>> | undefined;
}

function pad(text: string, field: Field): string {
  if (text.length >= field.width) return text;
  if (field.leftAlign) return text.padEnd(field.width);
  return text.padStart(field.width, field.zeroPad && field.conversion !== "s" ? "0" : " ");
}

/**
 * A compiled Python `logging` %-style format. Compilation happens once; each record then walks a
 * short array of literals and fields. `writeBatch` is the master's fast path: it copies the
 * message and name bytes straight from the frame into the output and caches the date per second,
 * building no string or object per record for the default format.
 *
 * @example
 * ```ts
 * const fmt = new LinePattern("%(asctime)s %(levelname)-8s %(name)s: %(message)s");
 * fmt.format(record); // "2026-11-28 13:05:14,123 INFO     api: ready"
 * ```
 */
export class LinePattern {
  readonly source: string;
  readonly #segments: Segment[];
  readonly #hasData: boolean;
  readonly #hasFields: boolean;
  /** Fields the format names directly: `%(fields)s` and the appended logfmt leave them out. */
  readonly #namedFields: ReadonlySet<string>;
  readonly #asctime = new AsctimeCache();
  readonly #logfmt = new LogfmtWriter();
  /** The byte program for {@link writeBatch}: one op per segment. */
  readonly #ops: ByteOp[];
  /** Upper bound of the bytes every op but name and message can write (asctime, literals, levels). */
  readonly #fixedBytes: number;
  #nameOps = 0;
  #messageOps = 0;
  /** Set when the line is "cacheable parts, message, cacheable parts" (the default format is). */
  readonly #lines: LineCache | undefined;

  /** @param _field the option the format came from; every format compiles (unknown keys are fields). */
  constructor(source: string, _field = "strFormat") {
    this.source = source;
    this.#segments = compilePattern(source);
    this.#hasData = this.#segments.some((s) => typeof s !== "string" && s.key === "data");
    this.#hasFields = this.#segments.some((s) => typeof s !== "string" && s.key === "fields");
    this.#namedFields = new Set(
      this.#segments.flatMap((s) => (typeof s !== "string" && s.key === "field" ? [s.fieldName] : [])),
    );
    let fixed = 0;
    this.#ops = this.#segments.map((segment): ByteOp => {
      if (typeof segment === "string") {
        const bytes = bytesOf(Buffer.from(segment, "utf8"));
        fixed += bytes.bytes.length;
        return { kind: OP_LITERAL, bytes, table: [], field: undefined };
      }
      if ((segment.key === "levelname" || segment.key === "levelno") && segment.conversion !== "r") {
        const table = LEVEL_NAMES.map((_name, level) =>
          bytesOf(
            Buffer.from(
              this.#value(segment, {
                ms: 0,
                level,
                name: "",
                message: "",
                pid: 0,
                data: undefined,
                fields: undefined,
              }),
            ),
          ),
        );
        fixed += Math.max(...table.map((b) => b.bytes.length));
        return { kind: OP_LEVEL, bytes: EMPTY, table, field: undefined };
      }
      if (segment.plain && segment.key === "asctime") {
        fixed += ASCTIME_BYTES;
        return { kind: OP_ASCTIME, bytes: EMPTY, table: [], field: undefined };
      }
      if (segment.plain && segment.key === "name") {
        this.#nameOps++;
        return { kind: OP_NAME, bytes: EMPTY, table: [], field: undefined };
      }
      if (segment.plain && segment.key === "message") {
        this.#messageOps++;
        return { kind: OP_MESSAGE, bytes: EMPTY, table: [], field: undefined };
      }
      return { kind: OP_FIELD, bytes: EMPTY, table: [], field: segment };
    });
    this.#fixedBytes = fixed;
    this.#lines = LineCache.forOps(this.#ops, fixed, this.#nameOps, (ops, ms, level, name, out, at) =>
      this.#runOps(ops, ms, level, name, out, at),
    );
  }

  /** Writes the cacheable ops (literals, asctime, level, name) for one record; returns the end. */
  #runOps(ops: ByteOp[], ms: number, level: number, name: Bytes, out: Bytes, at: number): number {
    for (const op of ops) at = this.#writeCacheableOp(op, ms, level, name, out, at);
    return at;
  }

  /** Writes one op that depends on nothing but the worker, the level and the millisecond. */
  #writeCacheableOp(op: ByteOp, ms: number, level: number, name: Bytes, out: Bytes, at: number): number {
    switch (op.kind) {
      case OP_LITERAL:
        return copyBytes(op.bytes, 0, op.bytes.bytes.length, out, at);
      case OP_ASCTIME:
        return at + this.#asctime.write(ms, out.bytes, at);
      case OP_LEVEL: {
        const bytes = op.table[level]!;
        return copyBytes(bytes, 0, bytes.bytes.length, out, at);
      }
      case OP_NAME:
        return copyBytes(name, 0, name.bytes.length, out, at);
      default:
        throw new Error(`op ${op.kind} depends on the record, not only on its millisecond`);
    }
  }

  /** Formats one record as a string (no trailing newline). */
  format(record: LogRecord): string {
    return this.#formatView({
      ms: nsToMs(record.timestampNs),
      level: record.level,
      name: record.name,
      message: record.message,
      pid: record.pid,
      data: record.data,
      fields: record.fields,
    });
  }

  /**
   * The line, then what a record's extras add: the attachment and the fields (logfmt) when the
   * format does not place them, and an error's stack on the lines below, indented.
   */
  #formatView(view: RecordView): string {
    let out = "";
    for (const segment of this.#segments) {
      out += typeof segment === "string" ? segment : this.#value(segment, view);
    }
    if (view.data !== undefined && !this.#hasData) out += ` ${renderData(view.data)}`;
    const fields = view.fields;
    if (fields !== undefined) {
      if (!this.#hasFields) {
        const text = logfmt(fields, this.#namedFields);
        if (text !== "") out += ` ${text}`;
      }
      out += errorTrailer(fields);
    }
    return out;
  }

  #value(field: Field, view: RecordView): string {
    let raw: string | number;
    switch (field.key) {
      case "asctime":
        raw = this.#asctime.format(view.ms);
        break;
      case "created":
        raw = view.ms / 1000;
        break;
      case "data":
        raw = view.data === undefined ? "" : renderData(view.data);
        break;
      case "fields":
        raw = view.fields === undefined ? "" : logfmt(view.fields, this.#namedFields);
        break;
      case "field": {
        const value = view.fields?.[field.fieldName];
        raw = value === undefined ? MISSING_FIELD_TEXT : fieldText(value);
        break;
      }
      case "levelname":
        raw = LEVEL_NAMES[view.level] ?? String(view.level);
        break;
      case "levelno":
        raw = view.level;
        break;
      case "message":
        raw = view.message;
        break;
      case "msecs":
        raw = Math.floor(view.ms % 1000);
        break;
      case "name":
        raw = view.name;
        break;
      case "process":
        raw = view.pid;
        break;
      default:
        // compilePattern() admits only FORMAT_KEYS, so reaching here is a bug, not bad input.
        throw new Error(`unhandled format key ${(field as Field).key}`);
    }
    return pad(convert(raw, field), field);
  }

  /**
   * Appends the records of `batch` at or above `minLevel`, one line each (newline-terminated), to
   * `sink`. Returns how many lines it wrote. Plain fields are copied byte for byte from the frame;
   * only fields with padding, numbers other than the level, or attachments build a string.
   */
  writeBatch(batch: RecordBatch, minLevel: number, sink: ByteSink): number {
    if (batch.maxLevel < minLevel) return 0;
    if (this.#lines !== undefined) return this.#writeCachedLines(this.#lines, batch, minLevel, sink);
    return this.#interpretBatch(batch, minLevel, sink, 0, batch.count);
  }

  /**
   * The fast path: every part of a line but the message depends only on the worker, the level and
   * the millisecond, and a worker logs thousands of records per millisecond under load. So the
   * bytes before and after the message are built once per (worker, millisecond, level) and each
   * line is two or three word copies. The millisecond is recognised from the raw u64 without any
   * arithmetic (see {@link LineCache.covers}).
   */
  #writeCachedLines(lines: LineCache, batch: RecordBatch, minLevel: number, sink: ByteSink): number {
    const frame = bytesOf(batch.buffer);
    const frameBytes = frame.bytes;
    const frameWords = frame.words;
    const offsets = batch.offsets;
    const name = bytesOf(batch.source.nameBytes);
    lines.useSource(batch.source);
    let written = 0;
    for (let i = 0; i < batch.count; i++) {
      const offset = offsets[i]!;
      const levelByte = frameBytes[offset + RECORD_LEVEL_OFFSET]!;
      const level = levelByte & RECORD_LEVEL_MASK;
      if (level < minLevel) continue;
      const lo = frameWords.getUint32(offset, true);
      const hi = frameWords.getUint32(offset + 4, true);
      if (!lines.covers(lo, hi)) lines.moveTo(lo, hi);
      const line = lines.entry(level, name);
      if ((levelByte & RECORD_FLAGS_EXTRA) !== 0) {
        if ((levelByte & RECORD_FLAG_DATA) === 0 && this.#writeFieldsLine(line, batch, i, frame, sink))
          written++;
        else written += this.#interpretBatch(batch, minLevel, sink, i, i + 1, frame, name);
        continue;
      }
      const messageLength = frameWords.getUint32(offset + RECORD_LENGTH_OFFSET, true);
      let at = sink.reserve(line.headLength + messageLength + line.tailLength);
      const out = sink.memory;
      at = copyBytes(line.head, 0, line.headLength, out, at);
      at = copyBytes(frame, offset + RECORD_HEADER_BYTES, messageLength, out, at);
      sink.length = copyBytes(line.tail, 0, line.tailLength, out, at);
      written++;
    }
    return written;
  }

  /**
   * A record with fields on the fast path: the cached parts around the message, the message
   * (interpolated when it has %-arguments), then the fields as logfmt written from the frame.
   * False, with nothing written, when the fields need the string path (see LogfmtWriter).
   */
  #writeFieldsLine(line: CachedLine, batch: RecordBatch, i: number, frame: Bytes, sink: ByteSink): boolean {
    const start = sink.length;
    const valuesAt = batch.valuesStart(i);
    const messageStart = batch.messageStart(i);
    const messageLength = batch.messageEnd(i) - messageStart;
    let at = sink.reserve(line.headLength + messageLength + line.tailLength);
    at = copyBytes(line.head, 0, line.headLength, sink.memory, at);
    if (batch.buffer[valuesAt] === 0) {
      at = copyBytes(frame, messageStart, messageLength, sink.memory, at);
    } else {
      sink.length = at;
      sink.writeString(batch.message(i));
      at = sink.reserve(line.tailLength);
    }
    // The tail without its newline: the fields come first.
    sink.length = copyBytes(line.tail, 0, line.tailLength - 1, sink.memory, at);
    if (!this.#logfmt.write(batch.buffer, batch.pairsStart(i), batch.valuesEnd(i), sink)) {
      sink.length = start;
      return false;
    }
    sink.writeByte(0x0a);
    return true;
  }

  /** The general path: runs the op program for records `from` to `to` of `batch`. */
  #interpretBatch(
    batch: RecordBatch,
    minLevel: number,
    sink: ByteSink,
    from: number,
    to: number,
    frame: Bytes = bytesOf(batch.buffer),
    name: Bytes = bytesOf(batch.source.nameBytes),
  ): number {
    const ops = this.#ops;
    const opCount = ops.length;
    // +1 for the newline, written in place below.
    const perRecordBound = this.#fixedBytes + this.#nameOps * name.bytes.length + 1;
    let written = 0;
    for (let i = from; i < to; i++) {
      const level = batch.level(i);
      if (level < minLevel) continue;
      if (batch.hasValues(i)) {
        // Fields, %-arguments or an error: the string path, which renders all three.
        sink.writeString(this.#formatView(viewOf(batch, i, level)));
        sink.writeByte(0x0a);
        written++;
        continue;
      }
      const messageStart = batch.messageStart(i);
      const messageEnd = batch.messageEnd(i);
      let at = sink.reserve(perRecordBound + this.#messageOps * (messageEnd - messageStart));
      let view: RecordView | undefined;
      for (let o = 0; o < opCount; o++) {
        const op = ops[o]!;
        switch (op.kind) {
          case OP_LITERAL:
          case OP_ASCTIME:
          case OP_LEVEL:
          case OP_NAME:
            at = this.#writeCacheableOp(
              op,
              op.kind === OP_ASCTIME ? batch.timestampMs(i) : 0,
              level,
              name,
              sink.memory,
              at,
            );
            break;
          case OP_MESSAGE:
            at = copyBytes(frame, messageStart, messageEnd - messageStart, sink.memory, at);
            break;
          default: {
            view ??= viewOf(batch, i, level);
            // A string of unknown length: hand the sink the bytes so far and let it grow.
            sink.length = at;
            sink.writeString(this.#value(op.field!, view));
            at = sink.reserve(perRecordBound + this.#messageOps * (messageEnd - messageStart));
          }
        }
      }
      if (!this.#hasData && batch.hasData(i)) {
        sink.length = at;
        sink.writeByte(0x20);
        sink.writeString(renderData(batch.data(i)!));
        at = sink.reserve(1);
      }
      sink.memory.bytes[at] = 0x0a;
      sink.length = at + 1;
      written++;
    }
    return written;
  }
}

function viewOf(batch: RecordBatch, i: number, level: number): RecordView {
  return {
    ms: batch.timestampMs(i),
    level,
    name: batch.source.name,
    message: batch.message(i),
    pid: batch.source.pid,
    data: batch.data(i),
    fields: batch.hasValues(i) ? batch.fields(i) : undefined,
  };
}

function convert(raw: string | number, field: Field): string {
  switch (field.conversion) {
    case "d":
    case "i": {
      const n = typeof raw === "number" ? Math.trunc(raw) : Number.parseInt(raw, 10);
      return Number.isNaN(n) ? String(raw) : String(n);
    }
    case "f": {
      const n = typeof raw === "number" ? raw : Number.parseFloat(raw);
      return Number.isNaN(n) ? String(raw) : n.toFixed(field.precision >= 0 ? field.precision : 6);
    }
    case "r":
      return JSON.stringify(typeof raw === "number" ? raw : raw);
    default: {
      const text = String(raw);
      return field.precision >= 0 ? text.slice(0, field.precision) : text;
    }
  }
}
