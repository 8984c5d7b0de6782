import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JsonLines } from "../../src/format/json.js";
import { ByteSink } from "../../src/format/sink.js";
import { LogLevel, type LogRecord } from "../../src/index.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";
import { ValueTag } from "../../src/protocol/values.js";
import { encode, encodeSections, HOST, lines, SOURCE } from "../helpers/json-lines.js";
import { parseStrict } from "../helpers/strict-json.js";

function namedFn(): void {}

describe("JsonLines: the line", () => {
  const timeOf = (line: string): number => (JSON.parse(line) as { time: number }).time;

  it("is pino's shape: level number, epoch ms, pid, hostname, name, msg, then the fields", () => {
    const [line] = lines(
      encode([{ level: LogLevel.INFO, args: ["ready", { userId: 42, ratio: 0.5, ok: true }] }]),
    );
    assert.equal(
      line,
      `{"level":30,"time":${timeOf(line!)},"pid":42,"hostname":"test-host","name":"api","msg":"ready","userId":42,"ratio":0.5,"ok":true}`,
    );
    const levels = lines(encode([0, 1, 2, 3, 4, 5].map((level) => ({ level, args: ["x"] })))).map(
      (l) => (JSON.parse(l) as { level: number }).level,
    );
    assert.deepEqual(levels, [10, 20, 30, 40, 50, 60]);
  });

  it("keeps a clashing field as fields.<key>, and a repeated key once, with the later value, where it first was", () => {
    const [line] = lines(
      encode([
        {
          level: LogLevel.WARNING,
          bindings: { reqId: "r-1", k: 1, msg: "binding" },
          args: ["hello", { k: 2, msg: "inner", "fields.msg": 1, time: "t" }],
        },
      ]),
    );
    assert.equal(
      line!.slice(line!.indexOf(',"msg":')),
      ',"msg":"hello","reqId":"r-1","k":2,"fields.fields.msg":"inner","fields.msg":1,"fields.time":"t"}',
    );
    const [withData] = lines(encode([{ level: 2, args: ["m", new Uint8Array([1, 2, 3]), { data: "x" }] }]));
    assert.ok(withData!.endsWith(',"msg":"m","data":"AQID","fields.data":"x"}'), withData);
    const [without] = lines(encode([{ level: 2, args: ["m", { data: "x" }] }]));
    assert.ok(without!.endsWith(',"msg":"m","data":"x"}'), without);
  });

  it("renders the %-message, numbers, bigint digits, dates, bytes, markers and errors", () => {
    const cause = Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
    const err = Object.assign(new TypeError("query failed", { cause }), { code: "E_QUERY", type: "ignored" });
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } };
    const [line] = lines(
      encode([
        {
          level: 4,
          args: [
            "order %s at %d",
            "A-17",
            101.25,
            err,
            {
              nan: Number.NaN,
              inf: -Infinity,
              negZero: -0,
              big: 12345678901234567890123n,
              when: new Date(0),
              bad: new Date(Number.NaN),
              bytes: new Uint8Array([255, 0]),
              list: [1, undefined, "two"],
              fn: namedFn,
              deep,
            },
          ],
        },
      ]),
    );
    const parsed = parseStrict(line!).value as Record<string, unknown>;
    assert.equal(parsed.msg, "order A-17 at 101.25");
    assert.ok(line!.includes('"big":12345678901234567890123,'), line);
    assert.deepEqual(
      { ...parsed, time: 0 },
      {
        level: 50,
        time: 0,
        pid: 42,
        hostname: HOST,
        name: "api",
        msg: "order A-17 at 101.25",
        err: {
          type: "TypeError",
          message: "query failed",
          stack: err.stack,
          code: "E_QUERY",
          cause: { type: "Error", message: "connection refused", stack: cause.stack, code: "ECONNREFUSED" },
        },
        nan: null,
        inf: null,
        negZero: 0,
        big: 12345678901234567890123n,
        when: "1970-01-01T00:00:00.000Z",
        bad: null,
        bytes: "/wA=",
        list: [1, null, "two"],
        fn: "[Function: namedFn]",
        deep: { a: { b: { c: { d: { e: { f: { g: "[Object]" } } } } } } },
      },
    );
  });

  it("reads what no log call writes but a frame may hold: undefined, formatted text, repeated nested keys", () => {
    const out = lines(
      encodeSections([
        (w) => {
          w.key("u");
          w.u8(ValueTag.UNDEFINED);
          w.key("after");
          w.number(1);
        },
        (w) => {
          w.key("f");
          w.formatted("Map(1) { 'a' => 1 }");
          w.key("o");
          w.value(
            new Map<unknown, unknown>([
              [1, "number key"],
              ["1", "string key"],
              ["z", undefined],
            ]),
            0,
            undefined,
          );
        },
        (w) => {
          w.key("nested");
          w.u8(ValueTag.OBJECT);
          w.patchU32(w.reserveU32(), 3);
          for (const k of ["b", "a", "b"]) {
            w.key(k);
            w.string(k === "a" ? "é" : `v${w.pos}`);
          }
        },
      ]),
    );
    assert.ok(out[0]!.endsWith(',"msg":"m","after":1}'), out[0]);
    assert.ok(out[1]!.endsWith(`,"msg":"m","f":"Map(1) { 'a' => 1 }","o":{"1":"string key"}}`), out[1]);
    const nested = (JSON.parse(out[2]!) as { nested: Record<string, string> }).nested;
    assert.deepEqual(Object.keys(nested), ["b", "a"]);
    assert.equal(nested.a, "é");
    assert.match(nested.b!, /^v\d+$/);
  });

  it("is valid JSON for any message bytes, and skips records below minLevel", () => {
    const builder = new BatchBuilder(256);
    builder.append(LogLevel.ERROR, new Uint8Array([0x61, 0xff, 0xfe, 0x62]), new Uint8Array([1, 2, 3]));
    builder.append(LogLevel.DEBUG, 'quote " backslash \\ new\nline \u0000 emoji 🎉', undefined);
    builder.append(LogLevel.INFO, "plain", undefined);
    const { batch } = decodeBatch(builder.seal(1), SOURCE);
    const all = lines(batch).map((l) => JSON.parse(l) as { msg: string; data?: string; level: number });
    assert.deepEqual(
      all.map((p) => [p.msg, p.data]),
      [
        ["a\uFFFD\uFFFDb", "AQID"],
        ['quote " backslash \\ new\nline \u0000 emoji 🎉', undefined],
        ["plain", undefined],
      ],
    );
    assert.deepEqual(
      lines(batch, LogLevel.INFO).map((l) => (JSON.parse(l) as { level: number }).level),
      [50, 30],
    );
    const sink = new ByteSink();
    assert.equal(new JsonLines(HOST).writeBatch(batch, LogLevel.CRITICAL, sink), 0);
    assert.equal(sink.length, 0);
  });

  it("formats a hand-built record: no fields, real Error classes, a cycle", () => {
    const json = new JsonLines(HOST);
    const base: LogRecord = {
      timestampNs: 1_767_323_046_123_456_789n,
      level: LogLevel.CRITICAL,
      name: 'we"ird',
      message: "lone \ud800",
      pid: 7,
    };
    assert.equal(
      json.format(base),
      '{"level":60,"time":1767323046123,"pid":7,"hostname":"test-host","name":"we\\"ird","msg":"lone \\ud800"}',
    );
    const loop: Record<string, unknown> = { id: 1 };
    loop.self = loop;
    const err = new RangeError("out");
    const line = json.format({ ...base, fields: { loop, err, skip: undefined, when: new Date(1) } });
    assert.deepEqual(JSON.parse(line).loop, { id: 1, self: "[Circular]" });
    assert.deepEqual(JSON.parse(line).err, { type: "RangeError", message: "out", stack: err.stack });
    assert.ok(line.endsWith(',"when":"1970-01-01T00:00:00.001Z"}'), line);
  });

  it("grows the sink for a field far larger than it", () => {
    // Within the worker's 64 KiB of values per record, far beyond the 16-byte sink.
    const big = "x".repeat(30_000);
    const wide = "é".repeat(10_000);
    const out = lines(encode([{ level: 2, args: ["m", { big, wide, after: true }] }]));
    const parsed = JSON.parse(out[0]!) as { big: string; wide: string; after: boolean };
    assert.ok(parsed.big === big, `big: ${parsed.big.length} characters`);
    assert.ok(parsed.wide === wide, `wide: ${parsed.wide.length} characters`);
    assert.equal(parsed.after, true);
  });
});
