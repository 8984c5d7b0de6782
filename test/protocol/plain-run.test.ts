// BatchBuilder.appendPlainRun writes runs of ASCII messages with one utf8Write and moves each into
// place; whatever the messages, sections and room, the batch it builds must be byte for byte the
// one that appending the same records one by one (appendAt) builds, and stop at the same record.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BATCH_HEADER_BYTES } from "../../src/protocol/constants.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";

interface Plain {
  time: number;
  level: number;
  message: string;
  section: Uint8Array | undefined;
}

const plain: fc.Arbitrary<Plain> = fc.record({
  // Milliseconds since the epoch with a sub-millisecond part, as nowMs() gives.
  time: fc.double({ min: 1.7e12, max: 1.8e12, noNaN: true }),
  level: fc.integer({ min: 0, max: 5 }),
  message: fc.oneof(
    fc.string({ unit: fc.constantFrom(..."abcdefghij KLM=:/0123456789"), maxLength: 90 }),
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 20 }),
  ),
  section: fc.option(
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => bytes),
    { nil: undefined },
  ),
});

function columns(records: readonly Plain[]) {
  return {
    times: Float64Array.from(records, (r) => r.time),
    levels: Uint8Array.from(records, (r) => r.level),
    messages: records.map((r) => r.message),
    sections: records.map((r) => r.section),
  };
}

function oneByOne(
  records: readonly Plain[],
  capacity: number,
  from: number,
): { builder: BatchBuilder; n: number } {
  const builder = new BatchBuilder(capacity);
  let n = 0;
  for (const r of records.slice(from)) {
    if (!builder.appendAt(r.time, r.level, r.message, undefined, r.section, r.section?.length ?? 0)) break;
    n++;
  }
  return { builder, n };
}

describe("BatchBuilder.appendPlainRun", () => {
  it("builds the same bytes as appendAt one by one, and stops at the same record when the batch fills", () => {
    fc.assert(
      fc.property(
        fc.array(plain, { maxLength: 700 }),
        fc.integer({ min: BATCH_HEADER_BYTES + 13, max: 64 * 1024 }),
        fc.nat(5),
        (records, capacity, skip) => {
          const from = Math.min(skip, records.length);
          const { times, levels, messages, sections } = columns(records);
          const run = new BatchBuilder(capacity);
          const n = run.appendPlainRun(times, levels, messages, sections, from, records.length);
          const expected = oneByOne(records, capacity, from);
          assert.equal(n, expected.n);
          assert.equal(run.count, expected.builder.count);
          assert.equal(run.maxLevel, expected.builder.maxLevel);
          assert.deepEqual(run.seal(1), expected.builder.seal(1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("decodes to the messages, levels and sections it was given, in order", () => {
    const records: Plain[] = Array.from({ length: 2000 }, (_, i) => ({
      time: 1.75e12 + i / 7,
      level: i % 6,
      message: i % 97 === 0 ? `non-ASCII é ${i}` : `request handled: GET /api/items/${i} status=200`,
      // A values section with no arguments and no fields: the smallest valid one.
      section: i % 5 === 0 ? Uint8Array.of(0) : undefined,
    }));
    const { times, levels, messages, sections } = columns(records);
    const builder = new BatchBuilder(256 * 1024);
    assert.equal(
      builder.appendPlainRun(times, levels, messages, sections, 0, records.length),
      records.length,
    );
    const { batch } = decodeBatch(builder.seal(1), { name: "w", nameBytes: Buffer.from("w"), pid: 1 });
    assert.equal(batch.count, records.length);
    for (let i = 0; i < records.length; i++) {
      assert.equal(batch.message(i), records[i]!.message);
      assert.equal(batch.level(i), records[i]!.level);
      assert.equal(batch.hasValues(i), records[i]!.section !== undefined);
    }
  });
});
