import { renderMessage } from "../format/message.js";
import type { LogLevel } from "../levels.js";
import type { LogRecord } from "../record.js";
import { readNsAsMs, readNsBigInt } from "./clock.js";
import {
  RECORD_FLAG_DATA,
  RECORD_FLAG_VALUES,
  RECORD_HEADER_BYTES,
  RECORD_LENGTH_OFFSET,
  RECORD_LEVEL_MASK,
  RECORD_LEVEL_OFFSET,
} from "./constants.js";
import { u32 } from "./u32.js";
import { skipValue, ValueReader } from "./value-reader.js";

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/** Who sent a batch. One per connection, shared by all its batches. */
export interface RecordSource {
  readonly name: string;
  /** `name` as UTF-8, so byte formatters copy it instead of re-encoding it per record. */
  readonly nameBytes: Buffer;
  readonly pid: number;
}

/**
 * A validated BATCH frame seen through an index of record offsets: records stay as bytes in the
 * frame, and the same batch object is handed to every handler. Byte-level formatters read fields
 * straight out of {@link buffer}; {@link record} builds a {@link LogRecord} only for handlers that
 * want objects.
 */
export class RecordBatch {
  readonly buffer: Buffer;
  readonly offsets: Uint32Array;
  readonly count: number;
  readonly source: RecordSource;
  /** Lowest and highest level present, so a handler can skip a whole batch without looking inside. */
  readonly minLevel: number;
  readonly maxLevel: number;
  /** Wire bytes of the frame, used to account for queue memory. */
  readonly byteLength: number;

  constructor(
    buffer: Buffer,
    offsets: Uint32Array,
    count: number,
    source: RecordSource,
    minLevel: number,
    maxLevel: number,
  ) {
    this.buffer = buffer;
    this.offsets = offsets;
    this.count = count;
    this.source = source;
    this.minLevel = minLevel;
    this.maxLevel = maxLevel;
    this.byteLength = buffer.length;
  }

  level(i: number): LogLevel {
    return (this.buffer[this.offsets[i]! + RECORD_LEVEL_OFFSET]! & RECORD_LEVEL_MASK) as LogLevel;
  }

  timestampMs(i: number): number {
    return readNsAsMs(this.buffer, this.offsets[i]!);
  }

  timestampNs(i: number): bigint {
    return readNsBigInt(this.buffer, this.offsets[i]!);
  }

  messageStart(i: number): number {
    return this.offsets[i]! + RECORD_HEADER_BYTES;
  }

  messageEnd(i: number): number {
    const offset = this.offsets[i]!;
    return offset + RECORD_HEADER_BYTES + u32(this.buffer, offset + RECORD_LENGTH_OFFSET);
  }

  /**
   * The message as it is to be shown: with %-arguments interpolated (util.format semantics)
   * when the record has any, otherwise its text.
   */
  message(i: number): string {
    const template = this.buffer.toString("utf8", this.messageStart(i), this.messageEnd(i));
    if (!this.hasValues(i) || this.buffer[this.valuesStart(i)] === 0) return template;
    return renderMessage(template, this.args(i));
  }

  /** The message bytes as logged: the template when the record has %-arguments. */
  template(i: number): string {
    return this.buffer.toString("utf8", this.messageStart(i), this.messageEnd(i));
  }

  hasData(i: number): boolean {
    return (this.buffer[this.offsets[i]! + RECORD_LEVEL_OFFSET]! & RECORD_FLAG_DATA) !== 0;
  }

  /** Whether the record carries a values section (fields or %-arguments). */
  hasValues(i: number): boolean {
    return (this.buffer[this.offsets[i]! + RECORD_LEVEL_OFFSET]! & RECORD_FLAG_VALUES) !== 0;
  }

  /** The attachment as a view into the frame, or undefined when the record has none. */
  data(i: number): Uint8Array | undefined {
    const offset = this.offsets[i]!;
    if ((this.buffer[offset + RECORD_LEVEL_OFFSET]! & RECORD_FLAG_DATA) === 0) return undefined;
    const at = this.messageEnd(i);
    const length = u32(this.buffer, at);
    return this.buffer.subarray(at + 4, at + 4 + length);
  }

  /** Start of the values section (its argument count byte); only when {@link hasValues}. */
  valuesStart(i: number): number {
    let at = this.messageEnd(i);
    if (this.hasData(i)) at += 4 + u32(this.buffer, at);
    return at + 4;
  }

  /** End of the values section; only when {@link hasValues}. */
  valuesEnd(i: number): number {
    const start = this.valuesStart(i);
    return start + u32(this.buffer, start - 4);
  }

  /** Where the (key, value) pairs of the values section start: after the arguments. */
  pairsStart(i: number): number {
    const start = this.valuesStart(i);
    const end = this.valuesEnd(i);
    const count = this.buffer[start]!;
    let pos = start + 1;
    for (let a = 0; a < count; a++) pos = skipValue(this.buffer, pos, end, 0, "record");
    return pos;
  }

  /** The %-arguments, decoded. */
  args(i: number): readonly unknown[] {
    if (!this.hasValues(i)) return NO_ARGS;
    const start = this.valuesStart(i);
    const count = this.buffer[start]!;
    if (count === 0) return NO_ARGS;
    const reader = new ValueReader(this.buffer, start + 1);
    const args = new Array<unknown>(count);
    for (let a = 0; a < count; a++) args[a] = reader.value();
    return args;
  }

  /**
   * The fields, decoded into a new object: a child logger's bindings first, then the call's own;
   * a later key replaces an earlier one. A shared empty object when the record has none.
   */
  fields(i: number): Readonly<Record<string, unknown>> {
    if (!this.hasValues(i)) return NO_FIELDS;
    const end = this.valuesEnd(i);
    const pairsAt = this.pairsStart(i);
    if (pairsAt === end) return NO_FIELDS;
    const reader = new ValueReader(this.buffer, pairsAt);
    const fields: Record<string, unknown> = {};
    while (reader.pos < end) reader.pairs(1, fields);
    return fields;
  }

  record(i: number): LogRecord {
    return new BatchRecord(this, i);
  }

  /** Appends the records at or above `minLevel` to `out` as objects. */
  collect(minLevel: number, out: LogRecord[]): void {
    if (this.maxLevel < minLevel) return;
    for (let i = 0; i < this.count; i++) {
      if (this.level(i) >= minLevel) out.push(this.record(i));
    }
  }
}

/**
 * A record seen from a batch. The message, fields and error are decoded on first read, so a
 * handler that never looks at them pays nothing for them.
 */
class BatchRecord implements LogRecord {
  readonly timestampNs: bigint;
  readonly level: LogLevel;
  readonly name: string;
  readonly pid: number;
  readonly data: Uint8Array | undefined;
  readonly #batch: RecordBatch;
  readonly #index: number;
  #message: string | undefined;
  #fields: Readonly<Record<string, unknown>> | undefined;

  constructor(batch: RecordBatch, i: number) {
    this.#batch = batch;
    this.#index = i;
    this.timestampNs = batch.timestampNs(i);
    this.level = batch.level(i);
    this.name = batch.source.name;
    this.pid = batch.source.pid;
    this.data = batch.data(i);
  }

  get message(): string {
    this.#message ??= this.#batch.message(this.#index);
    return this.#message;
  }

  get fields(): Readonly<Record<string, unknown>> {
    this.#fields ??= this.#batch.fields(this.#index);
    return this.#fields;
  }

  get err(): Error | undefined {
    return errorOf(this.fields);
  }
}

/** The record's error: the field `err` when it is one, else the first field that is one. */
export function errorOf(fields: Readonly<Record<string, unknown>>): Error | undefined {
  const err = fields.err;
  if (err instanceof Error) return err;
  for (const key in fields) {
    const value = fields[key];
    if (value instanceof Error) return value;
  }
  return undefined;
}
