// Records through the real encoder (CallShape, BatchBuilder, decodeBatch) and their JSON lines
// through both paths of JsonLines, asserted identical.
import assert from "node:assert/strict";
import { CallShape } from "../../src/call/shape.js";
import { JsonLines } from "../../src/format/json.js";
import { ByteSink } from "../../src/format/sink.js";
import { LogLevel } from "../../src/index.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";
import type { RecordBatch } from "../../src/protocol/record-batch.js";
import { ValueWriter } from "../../src/protocol/value-writer.js";
import { DEFAULT_FIELD_LIMITS } from "../../src/protocol/values.js";

export const HOST = "test-host";
export const SOURCE = { name: "api", nameBytes: Buffer.from("api"), pid: 42 };
export const LINE_KEYS = ["level", "time", "pid", "hostname", "name", "msg"];

/** One log call as a worker makes it: bindings of a child logger, then the call's arguments. */
export interface Call {
  level: number;
  bindings?: Record<string, unknown> | undefined;
  args: unknown[];
}

export function encode(calls: readonly Call[]): RecordBatch {
  const root = CallShape.root(undefined, 1 << 20);
  const builder = new BatchBuilder(1 << 22);
  for (const call of calls) {
    const shape = call.bindings === undefined ? root : root.child(call.bindings, undefined);
    const parts = shape.shape(call.args);
    assert.ok(builder.append(call.level, parts.message, parts.data, parts.values, parts.valuesLength));
  }
  return decodeBatch(builder.seal(1), SOURCE).batch;
}

/** A batch of records whose values sections are written by hand, for what no log call produces. */
export function encodeSections(sections: readonly ((w: ValueWriter) => void)[]): RecordBatch {
  const builder = new BatchBuilder(1 << 16);
  const w = new ValueWriter({ ...DEFAULT_FIELD_LIMITS });
  for (const write of sections) {
    w.reset();
    w.u8(0);
    write(w);
    assert.ok(builder.append(LogLevel.INFO, "m", undefined, Buffer.from(w.bytes())));
  }
  return decodeBatch(builder.seal(1), SOURCE).batch;
}

/** The lines of both paths, asserted identical: the byte path, and format() of each record. */
export function lines(batch: RecordBatch, minLevel = 0): string[] {
  const json = new JsonLines(HOST);
  // A tiny sink, so that growing it in the middle of a line is exercised too.
  const sink = new ByteSink(16);
  const written = json.writeBatch(batch, minLevel, sink);
  const viaBytes = sink.view().toString("utf8").split("\n");
  assert.equal(viaBytes.pop(), "", "every line ends with a newline");
  const viaObjects: string[] = [];
  for (let i = 0; i < batch.count; i++) {
    if (batch.level(i) >= minLevel) viaObjects.push(json.format(batch.record(i)));
  }
  assert.deepEqual(viaBytes, viaObjects);
  assert.equal(written, viaObjects.length);
  return viaBytes;
}
