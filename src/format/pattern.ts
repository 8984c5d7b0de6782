import { InvalidConfigError } from "../errors.js";
import { LEVEL_NAMES } from "../levels.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import { renderData } from "./data.js";
import type { ByteSink } from "./sink.js";
import { ASCTIME_BYTES, AsctimeCache } from "./time.js";

/** The `%(key)` names a format may use, as in Python's logging where they exist there. */
export const FORMAT_KEYS = [
  "asctime",
  "created",
  "data",
  "levelname",
  "levelno",
  "message",
  "msecs",
  "name",
  "process",
] as const;
type FormatKey = (typeof FORMAT_KEYS)[number];

const PLACEHOLDER = /%%|%\((\w+)\)([-#0 +]*)(\d+)?(?:\.(\d+))?([sdifr])/g;

interface Field {
  key: FormatKey;
  leftAlign: boolean;
  zeroPad: boolean;
  width: number;
  precision: number;
  conversion: string;
  /** True when the value can be copied as it is (no width, precision or conversion applies). */
  plain: boolean;
}
type Segment = string | Field;

/** Values of one record that fields draw on; the same shape for object and byte formatting. */
interface RecordView {
  ms: number;
  level: number;
  name: string;
  message: string;
  pid: number;
  data: Uint8Array | undefined;
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
  readonly #literalBytes: Map<string, Buffer>;
  readonly #hasData: boolean;
  readonly #asctime = new AsctimeCache();
  readonly #levelBytes = new Map<Field, Buffer[]>();

  constructor(source: string, field = "strFormat") {
    this.source = source;
    this.#segments = compile(source, field);
    this.#hasData = this.#segments.some((s) => typeof s !== "string" && s.key === "data");
    this.#literalBytes = new Map();
    for (const segment of this.#segments) {
      if (typeof segment === "string") this.#literalBytes.set(segment, Buffer.from(segment, "utf8"));
      else if ((segment.key === "levelname" || segment.key === "levelno") && segment.conversion !== "r") {
        this.#levelBytes.set(
          segment,
          LEVEL_NAMES.map((_name, level) =>
            Buffer.from(
              this.#value(segment, { ms: 0, level, name: "", message: "", pid: 0, data: undefined }),
            ),
          ),
        );
      }
    }
  }

  /** Formats one record as a string (no trailing newline). */
  format(record: LogRecord): string {
    return this.#formatView({
      ms: Number(record.timestampNs / 1000n) / 1000,
      level: record.level,
      name: record.name,
      message: record.message,
      pid: record.pid,
      data: record.data,
    });
  }

  #formatView(view: RecordView): string {
    let out = "";
    for (const segment of this.#segments) {
      out += typeof segment === "string" ? segment : this.#value(segment, view);
    }
    if (view.data !== undefined && !this.#hasData) out += ` ${renderData(view.data)}`;
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
        // compile() admits only FORMAT_KEYS, so reaching here is a bug, not bad input.
        throw new Error(`unhandled format key ${(field as Field).key}`);
    }
    return pad(convert(raw, field), field);
  }

  /**
   * Appends the records of `batch` at or above `minLevel`, one line each (newline-terminated), to
   * `sink`. Returns how many lines it wrote.
   */
  writeBatch(batch: RecordBatch, minLevel: number, sink: ByteSink): number {
    if (batch.maxLevel < minLevel) return 0;
    const segments = this.#segments;
    const buf = batch.buffer;
    const name = batch.source.nameBytes;
    let written = 0;
    let view: RecordView | undefined;
    for (let i = 0; i < batch.count; i++) {
      const level = batch.level(i);
      if (level < minLevel) continue;
      view = undefined;
      const data = batch.data(i);
      for (let s = 0; s < segments.length; s++) {
        const segment = segments[s]!;
        if (typeof segment === "string") {
          sink.writeBytes(this.#literalBytes.get(segment)!);
          continue;
        }
        if (segment.plain) {
          switch (segment.key) {
            case "asctime": {
              const at = sink.reserve(ASCTIME_BYTES);
              sink.length = at + this.#asctime.write(batch.timestampMs(i), sink.buffer, at);
              continue;
            }
            case "message":
              sink.writeBytes(buf, batch.messageStart(i), batch.messageEnd(i));
              continue;
            case "name":
              sink.writeBytes(name);
              continue;
            default:
              break;
          }
        }
        const levelBytes = this.#levelBytes.get(segment);
        if (levelBytes !== undefined) {
          sink.writeBytes(levelBytes[level]!);
          continue;
        }
        view ??= {
          ms: batch.timestampMs(i),
          level,
          name: batch.source.name,
          message: segment.key === "message" ? batch.message(i) : "",
          pid: batch.source.pid,
          data,
        };
        if (segment.key === "message" && view.message === "") view.message = batch.message(i);
        sink.writeString(this.#value(segment, view));
      }
      if (data !== undefined && !this.#hasData) {
        sink.writeByte(0x20);
        sink.writeString(renderData(data));
      }
      sink.writeByte(0x0a);
      written++;
    }
    return written;
  }
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

function compile(source: string, fieldName: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  let literal = "";
  for (const match of source.matchAll(PLACEHOLDER)) {
    literal += source.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[0] === "%%") {
      literal += "%";
      continue;
    }
    const key = match[1]!;
    if (!(FORMAT_KEYS as readonly string[]).includes(key)) {
      throw new InvalidConfigError(
        fieldName,
        `unknown placeholder %(${key}); accepted: ${FORMAT_KEYS.map((k) => `%(${k})`).join(", ")}`,
      );
    }
    if (literal !== "") segments.push(literal);
    literal = "";
    const flags = match[2] ?? "";
    const width = match[3] === undefined ? 0 : Number(match[3]);
    const precision = match[4] === undefined ? -1 : Number(match[4]);
    const conversion = match[5]!;
    segments.push({
      key: key as FormatKey,
      leftAlign: flags.includes("-"),
      zeroPad: flags.includes("0"),
      width,
      precision,
      conversion,
      plain: width === 0 && precision < 0 && conversion === "s",
    });
  }
  literal += source.slice(last);
  if (literal !== "") segments.push(literal);
  return segments;
}
