import { hostname } from "node:os";
import { nsToMs } from "../protocol/clock.js";
import {
  RECORD_FLAG_DATA,
  RECORD_FLAG_VALUES,
  RECORD_FLAGS_EXTRA,
  RECORD_HEADER_BYTES,
  RECORD_LENGTH_OFFSET,
  RECORD_LEVEL_MASK,
  RECORD_LEVEL_OFFSET,
} from "../protocol/constants.js";
import type { RecordBatch, RecordSource } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { copyPlain, JSON_BYTES_PER_VALUE_BYTE, JSON_SLACK_BYTES, JsonTranscoder } from "./json-transcode.js";
import { fieldsJson } from "./json-values.js";
import { MillisecondCache } from "./millisecond-cache.js";
import { type ByteSink, type Bytes, bytesOf, copyBytes } from "./sink.js";

/** Anything that turns records into lines: the %-style {@link LinePattern} or {@link JsonLines}. */
export interface LineFormatter {
  format(record: LogRecord): string;
  /** Appends newline-terminated lines for the records of `batch` at or above `minLevel`. */
  writeBatch(batch: RecordBatch, minLevel: number, sink: ByteSink): number;
}

/** pino's level numbers: TRACE 10, DEBUG 20, INFO 30, WARNING 40 ("warn"), ERROR 50, CRITICAL 60 ("fatal"). */
export function pinoLevel(level: number): number {
  return (level + 1) * 10;
}

/** The bytes of a line up to its message's opening quote, for one level. */
interface Head {
  generation: number;
  bytes: Bytes;
  length: number;
}

/**
 * `{"level":30,"time":1795871114123,"pid":42,"hostname":"web-1","name":"api","msg":` depends only
 * on the worker, the millisecond and the level, and a worker logs thousands of records a
 * millisecond under load: so it is built once per (worker, millisecond, level) and each line
 * copies it. The millisecond is recognised from the raw u64 of nanoseconds, as LinePattern does.
 */
class HeadCache extends MillisecondCache {
  readonly #heads: Head[] = [];
  readonly #hostname: string;
  /** `,"pid":42,"hostname":"h","name":"api","msg":` of the current source. */
  #middle = "";

  constructor(hostname: string) {
    super();
    this.#hostname = hostname;
  }

  middle(name: string, pid: number): string {
    return `,"pid":${pid},"hostname":${this.#hostname},"name":${JSON.stringify(name)}${MSG_KEY}`;
  }

  override useSource(source: RecordSource): boolean {
    if (!super.useSource(source)) return false;
    this.#middle = this.middle(source.name, source.pid);
    return true;
  }

  entry(level: number): Head {
    let head = this.#heads[level];
    if (head === undefined) {
      head = { generation: 0, bytes: bytesOf(new Uint8Array(0)), length: 0 };
      this.#heads[level] = head;
    }
    if (head.generation !== this.generation) {
      // A new buffer once per millisecond and level in use: cheaper than the care to reuse one.
      const text = Buffer.from(`{"level":${pinoLevel(level)},"time":${this.ms}${this.#middle}`, "utf8");
      head.bytes = bytesOf(text);
      head.length = text.length;
      head.generation = this.generation;
    }
    return head;
  }
}

const MSG_KEY = ',"msg":';

/**
 * One JSON object per line, in pino's shape, so pino-pretty and every tool that reads pino's
 * output reads these lines:
 *
 * `{"level":30,"time":1795871114123,"pid":42,"hostname":"web-1","name":"api","msg":"ready","userId":42}`
 *
 * - `level` is pino's number: TRACE 10, DEBUG 20, INFO 30, WARNING 40, ERROR 50, CRITICAL 60;
 *   `time` milliseconds since the epoch (when the worker made the call); `pid` and `name` the
 *   worker's; `hostname` the master's (`os.hostname()`, the machine that writes the line).
 * - `msg` is the message with %-arguments interpolated; `"data"` (base64) follows it when the
 *   record has an attachment.
 * - The fields come next, at the top level, in the record's order: a child logger's bindings,
 *   then the call's own. A key given twice (a binding and a field) appears once, with the later
 *   value, at the place where it first appeared (as `{ ...bindings, ...fields }` has it); keys that
 *   are array indexes ("0", "42") come first among them, as JavaScript orders keys. A field whose
 *   value is undefined is left out.
 * - A field whose key is one of the line's own (`level`, `time`, `pid`, `hostname`, `name`, `msg`,
 *   and `data` when the record has an attachment) is kept under `fields.<key>` (`"fields.msg"`),
 *   prefixed again while that meets another key of the record (`"fields.fields.msg"`).
 * - Values: strings; numbers (NaN and ±Infinity as null, as JSON.stringify); a bigint as its
 *   exact digits (a JSON number, as pino writes it); booleans, null; undefined in an array as null;
 *   a Date as its ISO string (null when invalid); a Uint8Array as a base64 string; arrays and
 *   objects nested; markers ("[Circular]"...) as strings; an Error as pino's err shape,
 *   `{"type","message","stack",<extra properties such as "code">,"cause"}`, the cause in the same
 *   shape (or as its value when it is no Error); an extra property named `type`, `message`,
 *   `stack` or `cause` does not replace the error's own.
 *
 * Text is decoded as UTF-8 with invalid sequences replaced, and JSON.stringify escapes quotes,
 * newlines and control characters, so every line parses whatever the record held.
 * `writeBatch` (the master's path) copies what needs no escaping straight from the frame and
 * builds no object per record; it gives the same bytes as `format` on the same record.
 *
 * @example
 * ```ts
 * new FileLogHandler("/var/log/app.jsonl", { format: "json" }); // then: pino-pretty < app.jsonl
 * ```
 */
export class JsonLines implements LineFormatter {
  readonly #heads: HeadCache;
  readonly #transcoder = new JsonTranscoder();

  /** @param host what the lines give as `hostname`: this machine's name unless told otherwise. */
  constructor(host: string = hostname()) {
    this.#heads = new HeadCache(JSON.stringify(host));
  }

  format(record: LogRecord): string {
    const data = record.data;
    let line = `{"level":${pinoLevel(record.level)},"time":${Math.floor(nsToMs(record.timestampNs))}${this.#heads.middle(
      record.name,
      record.pid,
    )}${JSON.stringify(record.message)}`;
    if (data !== undefined) line += dataJson(data);
    if (record.fields !== undefined) line += fieldsJson(record.fields, data !== undefined);
    return `${line}}`;
  }

  writeBatch(batch: RecordBatch, minLevel: number, sink: ByteSink): number {
    if (batch.maxLevel < minLevel) return 0;
    const frame = bytesOf(batch.buffer);
    const bytes = frame.bytes;
    const words = frame.words;
    const offsets = batch.offsets;
    const heads = this.#heads;
    heads.useSource(batch.source);
    const transcoder = this.#transcoder;
    transcoder.useFrame(batch.buffer);
    let written = 0;
    for (let i = 0; i < batch.count; i++) {
      const offset = offsets[i]!;
      const flags = bytes[offset + RECORD_LEVEL_OFFSET]!;
      const level = flags & RECORD_LEVEL_MASK;
      if (level < minLevel) continue;
      const lo = words.getUint32(offset, true);
      const hi = words.getUint32(offset + 4, true);
      if (!heads.covers(lo, hi)) heads.moveTo(lo, hi);
      const head = heads.entry(level);
      const messageStart = offset + RECORD_HEADER_BYTES;
      const messageLength = words.getUint32(offset + RECORD_LENGTH_OFFSET, true);
      const messageEnd = messageStart + messageLength;
      let valuesStart = 0;
      let valuesEnd = 0;
      if ((flags & RECORD_FLAGS_EXTRA) !== 0) {
        let at = messageEnd;
        if ((flags & RECORD_FLAG_DATA) !== 0) at += 4 + words.getUint32(at, true);
        if ((flags & RECORD_FLAG_VALUES) !== 0) {
          valuesStart = at + 4;
          valuesEnd = valuesStart + words.getUint32(at, true);
        }
      }
      const valuesBound = JSON_BYTES_PER_VALUE_BYTE * (valuesEnd - valuesStart) + JSON_SLACK_BYTES;
      const lineStart = sink.length;
      let at = sink.reserve(head.length + messageLength + 2 + valuesBound);
      let out = sink.memory;
      at = copyBytes(head.bytes, 0, head.length, out, at);
      if (valuesEnd !== 0 && bytes[valuesStart] !== 0) {
        // %-arguments: the message is util.format's, built in the master.
        at = this.#writeText(sink, at, JSON.stringify(batch.message(i)), valuesBound);
      } else if (copyPlain(bytes, messageStart, messageLength, out.bytes, at + 1)) {
        out.bytes[at] = 0x22;
        at += messageLength + 1;
        out.bytes[at++] = 0x22;
      } else {
        const text = batch.buffer.toString("utf8", messageStart, messageEnd);
        at = this.#writeText(sink, at, JSON.stringify(text), valuesBound);
      }
      const hasData = (flags & RECORD_FLAG_DATA) !== 0;
      if (hasData) at = this.#writeText(sink, at, dataJson(batch.data(i)!), valuesBound);
      if (valuesEnd !== 0) {
        const pairsStart = bytes[valuesStart] === 0 ? valuesStart + 1 : batch.pairsStart(i);
        at = transcoder.pairs(sink, at, pairsStart, valuesEnd, hasData);
        if (at < 0) {
          // A top-level key to rename, dedupe or escape: the object path, for the whole line.
          at = this.#writeText(sink, lineStart, this.format(batch.record(i)).slice(0, -1), 0);
        }
      }
      out = sink.memory;
      out.bytes[at] = 0x7d; // }
      out.bytes[at + 1] = 0x0a;
      sink.length = at + 2;
      written++;
    }
    return written;
  }

  /** Writes `text` at `at` through the sink, then reserves `room` more (and the line's end). */
  #writeText(sink: ByteSink, at: number, text: string, room: number): number {
    sink.length = at;
    sink.writeString(text);
    return sink.reserve(room + 2);
  }
}

/** `,"data":"<base64>"`. */
function dataJson(data: Uint8Array): string {
  return `,"data":"${Buffer.from(data.buffer, data.byteOffset, data.length).toString("base64")}"`;
}
