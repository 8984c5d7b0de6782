import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { JsonLines } from "../../src/format/json.js";
import { ByteSink } from "../../src/format/sink.js";
import { LinePattern, LogLevel, type LogRecord } from "../../src/index.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";
import { batchFrame, type RawRecord } from "../helpers/frames.js";

// 2026-11-28 13:05:14.123 in local time, whatever the machine's zone.
const when = new Date(2026, 10, 28, 13, 5, 14, 123);
const record: LogRecord = {
  timestampNs: BigInt(when.getTime()) * 1_000_000n + 456_789n,
  level: LogLevel.WARNING,
  name: "DataProcessor",
  message: "Processing batch 123",
  pid: 4242,
};

function viaBytes(
  pattern: LinePattern | JsonLines,
  messages: string[],
  level: number = LogLevel.INFO,
  minLevel = 0,
): string {
  const builder = new BatchBuilder(4096);
  for (const m of messages) builder.append(level, m, undefined);
  const { batch } = decodeBatch(builder.seal(1), { name: "w", nameBytes: Buffer.from("w"), pid: 7 });
  const sink = new ByteSink(16);
  pattern.writeBatch(batch, minLevel, sink);
  return sink.view().toString("utf8");
}

describe("LinePattern", () => {
  it("formats the default shape with a Python-style asctime", () => {
    const line = new LinePattern("%(asctime)s [%(levelname)s] %(name)s - %(message)s").format(record);
    assert.equal(line, "2026-11-28 13:05:14,123 [WARNING] DataProcessor - Processing batch 123");
  });

  it("supports every documented placeholder with width and alignment", () => {
    const pattern = new LinePattern(
      "%(levelname)-8s|%(levelno)d|%(name)10s|%(process)d|%(msecs)03d|%(created).3f|%(message)s|%%",
    );
    const created = (when.getTime() / 1000).toFixed(3);
    assert.equal(
      pattern.format(record),
      `WARNING |3|DataProcessor|4242|123|${created}|Processing batch 123|%`,
    );
    assert.equal(
      new LinePattern("%(name)-6s|%(message).4s").format({ ...record, name: "ab" }),
      "ab    |Proc",
    );
  });

  it("renders attachments readably: text as a quoted string, binary as base64", () => {
    const pattern = new LinePattern("%(message)s");
    assert.equal(
      pattern.format({ ...record, data: Buffer.from("hello\nworld") }),
      'Processing batch 123 [data 11B utf8: "hello\\nworld"]',
    );
    assert.equal(
      pattern.format({ ...record, data: new Uint8Array([0, 1, 2, 255]) }),
      "Processing batch 123 [data 4B base64: AAEC/w==]",
    );
    assert.equal(
      new LinePattern("%(data)s :: %(message)s").format({ ...record, data: Buffer.from("x") }),
      '[data 1B utf8: "x"] :: Processing batch 123',
    );
  });

  it("byte formatting matches string formatting", () => {
    const source = "%(asctime)s %(levelname)-8s %(name)s[%(process)d] %(levelno)d %(message)s";
    const messages = ["plain", "ünïcødé ✓ 🎉", "x".repeat(300)];
    const pattern = new LinePattern(source);
    const bytes = viaBytes(pattern, messages).split("\n");
    assert.equal(bytes.length, 4);
    assert.equal(bytes[3], "");
    for (let i = 0; i < messages.length; i++) {
      assert.match(bytes[i]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO {5}w\[7\] 2 /);
      assert.ok(bytes[i]!.endsWith(messages[i]!), bytes[i]);
    }
  });

  it("byte formatting honours the level threshold", () => {
    assert.equal(viaBytes(new LinePattern("%(message)s"), ["a", "b"], LogLevel.INFO, LogLevel.ERROR), "");
    assert.equal(
      viaBytes(new LinePattern("%(message)s"), ["a", "b"], LogLevel.ERROR, LogLevel.ERROR),
      "a\nb\n",
    );
  });
});

describe("LinePattern byte formatting against format()", () => {
  // Timestamps near the places the cache could get wrong: a millisecond boundary, a second
  // boundary and a change of the u64's high word (every 2^32 ns), in any order.
  const highWordEdge = 412_345n * 2n ** 32n;
  const secondEdge = 1_795_000_000_000_000_000n;
  const nsArb = fc.oneof(
    fc.bigInt({ min: highWordEdge - 3_000_000n, max: highWordEdge + 3_000_000n }),
    fc.bigInt({ min: secondEdge - 2_000_000n, max: secondEdge + 2_000_000n }),
    fc.bigInt({ min: 0n, max: 2n ** 63n }),
  );
  const recordArb = fc.record({
    ns: nsArb,
    level: fc.integer({ min: 0, max: 5 }),
    message: fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: "grapheme", maxLength: 12 }),
      // Long enough for the native copy path.
      fc.string({ minLength: 150, maxLength: 400 }),
    ),
    data: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: undefined }),
  });
  const sources = [
    { name: "api", nameBytes: Buffer.from("api"), pid: 11 },
    { name: "wörker-ß", nameBytes: Buffer.from("wörker-ß"), pid: 12 },
  ];

  for (const source of [
    "%(asctime)s [%(levelname)s] %(name)s - %(message)s",
    "%(message)s",
    "%(levelname)s %(message)s | %(name)s @ %(asctime)s",
    "%(name)s%(message)s%(name)s",
    // Not cacheable (padding, the pid): the general path, checked the same way.
    "%(asctime)s %(levelname)-8s %(name)s[%(process)d] %(message)s",
  ]) {
    it(`writes exactly what format() does, batch after batch: ${source}`, () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              from: fc.constantFrom(0, 1),
              records: fc.array(recordArb, { maxLength: 12 }),
              minLevel: fc.integer({ min: 0, max: 5 }),
            }),
            { minLength: 1, maxLength: 6 },
          ),
          (batches) => {
            // One pattern and one sink for the whole sequence: the cache outlives batches.
            const pattern = new LinePattern(source);
            const sink = new ByteSink(8);
            let expected = "";
            let expectedCount = 0;
            let count = 0;
            for (const { from, records, minLevel } of batches) {
              const { batch } = decodeBatch(batchFrame(1, records as RawRecord[]), sources[from]!);
              for (let i = 0; i < batch.count; i++) {
                if (batch.level(i) < minLevel) continue;
                expected += `${pattern.format(batch.record(i))}\n`;
                expectedCount++;
              }
              count += pattern.writeBatch(batch, minLevel, sink);
            }
            assert.equal(sink.view().toString("utf8"), expected);
            assert.equal(count, expectedCount);
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

describe("JsonLines", () => {
  it("produces one valid JSON object per line for any message content", () => {
    const nasty = ['quote " backslash \\', "new\nline\r\ttab", "\u0000\u001f control", "emoji 🎉"];
    const lines = viaBytes(new JsonLines(), nasty).trimEnd().split("\n");
    assert.equal(lines.length, nasty.length);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line);
      assert.equal(parsed.msg, nasty[i]);
      assert.equal(parsed.level, 30);
      assert.equal(parsed.name, "w");
      assert.equal(parsed.pid, 7);
      assert.ok(Number.isInteger(parsed.time) && Math.abs(parsed.time - Date.now()) < 60_000, line);
    });
  });

  it("replaces invalid UTF-8 and encodes attachments as base64", () => {
    const builder = new BatchBuilder(256);
    builder.append(LogLevel.ERROR, new Uint8Array([0x61, 0xff, 0xfe, 0x62]), new Uint8Array([1, 2, 3]));
    const { batch } = decodeBatch(builder.seal(1), { name: "w", nameBytes: Buffer.from("w"), pid: 1 });
    const sink = new ByteSink();
    new JsonLines().writeBatch(batch, 0, sink);
    const parsed = JSON.parse(sink.view().toString());
    assert.equal(parsed.msg, "a\uFFFD\uFFFDb");
    assert.equal(parsed.data, "AQID");
  });
});
