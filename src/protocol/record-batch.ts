import type { LogLevel } from "../levels.js";
import type { LogRecord } from "../record.js";
import { readNsAsMs, readNsBigInt } from "./clock.js";
import {
  RECORD_FLAG_DATA,
  RECORD_HEADER_BYTES,
  RECORD_LENGTH_OFFSET,
  RECORD_LEVEL_MASK,
  RECORD_LEVEL_OFFSET,
} from "./constants.js";
import { u32 } from "./u32.js";

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

  message(i: number): string {
    return this.buffer.toString("utf8", this.messageStart(i), this.messageEnd(i));
  }

  hasData(i: number): boolean {
    return (this.buffer[this.offsets[i]! + RECORD_LEVEL_OFFSET]! & RECORD_FLAG_DATA) !== 0;
  }

  /** The attachment as a view into the frame, or undefined when the record has none. */
  data(i: number): Uint8Array | undefined {
    const offset = this.offsets[i]!;
    if ((this.buffer[offset + RECORD_LEVEL_OFFSET]! & RECORD_FLAG_DATA) === 0) return undefined;
    const at = this.messageEnd(i);
    const length = u32(this.buffer, at);
    return this.buffer.subarray(at + 4, at + 4 + length);
  }

  record(i: number): LogRecord {
    const data = this.data(i);
    const record: {
      timestampNs: bigint;
      level: LogLevel;
      name: string;
      message: string;
      pid: number;
      data?: Uint8Array;
    } = {
      timestampNs: this.timestampNs(i),
      level: this.level(i),
      name: this.source.name,
      message: this.message(i),
      pid: this.source.pid,
    };
    if (data !== undefined) record.data = data;
    return record;
  }

  /** Appends the records at or above `minLevel` to `out` as objects. */
  collect(minLevel: number, out: LogRecord[]): void {
    if (this.maxLevel < minLevel) return;
    for (let i = 0; i < this.count; i++) {
      if (this.level(i) >= minLevel) out.push(this.record(i));
    }
  }
}
