import { LEVEL_NAMES } from "../levels.js";
import { nsToMs } from "../protocol/clock.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { LogRecord } from "../record.js";
import type { ByteSink } from "./sink.js";
import { isoTime } from "./time.js";

/** Anything that turns records into lines: the %-style {@link LinePattern} or {@link JsonLines}. */
export interface LineFormatter {
  format(record: LogRecord): string;
  /** Appends newline-terminated lines for the records of `batch` at or above `minLevel`. */
  writeBatch(batch: RecordBatch, minLevel: number, sink: ByteSink): number;
}

/**
 * One JSON object per line:
 * `{"time":"2026-11-28T13:05:14.123Z","level":"INFO","levelno":2,"name":"api","pid":42,"msg":"ready"}`
 * plus `"data"` (base64) when the record has an attachment. Messages are decoded as UTF-8 with
 * invalid sequences replaced, and JSON.stringify escapes quotes, newlines and control characters,
 * so every line parses whatever the message held.
 */
export class JsonLines implements LineFormatter {
  format(record: LogRecord): string {
    return this.#line(
      nsToMs(record.timestampNs),
      record.level,
      record.name,
      record.pid,
      record.message,
      record.data,
    );
  }

  #line(
    ms: number,
    level: number,
    name: string,
    pid: number,
    message: string,
    data: Uint8Array | undefined,
  ): string {
    let line = `{"time":"${isoTime(ms)}","level":"${LEVEL_NAMES[level]}","levelno":${level},"name":${JSON.stringify(
      name,
    )},"pid":${pid},"msg":${JSON.stringify(message)}`;
    if (data !== undefined) {
      line += `,"data":"${Buffer.from(data.buffer, data.byteOffset, data.length).toString("base64")}"`;
    }
    return `${line}}`;
  }

  writeBatch(batch: RecordBatch, minLevel: number, sink: ByteSink): number {
    if (batch.maxLevel < minLevel) return 0;
    let written = 0;
    for (let i = 0; i < batch.count; i++) {
      const level = batch.level(i);
      if (level < minLevel) continue;
      sink.writeString(
        this.#line(
          batch.timestampMs(i),
          level,
          batch.source.name,
          batch.source.pid,
          batch.message(i),
          batch.data(i),
        ),
      );
      sink.writeByte(0x0a);
      written++;
    }
    return written;
  }
}
