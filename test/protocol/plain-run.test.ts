// BatchBuilder.appendPlainRun writes runs of ASCII messages with one utf8Write (with gaps for the
// headers and one shared section, or moving each message into place when the run's sections
// differ); whatever the messages, sections and room, the batch it builds must be byte for byte the
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

const asciiMessage = fc.string({ unit: fc.constantFrom(..."abcdefghij KLM=:/0123456789"), maxLength: 90 });
const sectionBytes = fc.uint8Array({ minLength: 1, maxLength: 40 });

/**
 * `sectionWeight` and `otherWeight` (out of 10) set how often a record has a child's section and a
 * message that may not be ASCII: runs with sections take one layout, runs without the other.
 */
function plainOf(
  sectionWeight: number,
  otherWeight: number,
  sectionOf: fc.Arbitrary<Uint8Array | undefined> = sectionBytes,
): fc.Arbitrary<Plain> {
  return fc.record({
    // Milliseconds since the epoch with a sub-millisecond part, as nowMs() gives.
    time: fc.double({ min: 1.7e12, max: 1.8e12, noNaN: true }),
    level: fc.integer({ min: 0, max: 5 }),
    message: fc.oneof(
      { weight: 10 - otherWeight, arbitrary: asciiMessage },
      { weight: otherWeight, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
      { weight: otherWeight, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
    ),
    section: fc.oneof(
      { weight: 10 - sectionWeight, arbitrary: fc.constant(undefined) },
      { weight: sectionWeight, arbitrary: sectionOf },
    ),
  });
}

/**
 * One child's bindings: the same section object on every record that has one, as a child logs.
 * Its bytes are all below 0x80, so runs carry it in their joined text; FLOAT_SECTION's are not.
 */
const CHILD_SECTION = Uint8Array.of(0, 2, 0, 0x72, 0x65, 4, 3, 0, 0, 0, 0x72, 0x2d, 0x31);
const FLOAT_SECTION = Uint8Array.of(0, 2, 0, 0x70, 0x78, 6, 0, 0, 0, 0, 0, 0x50, 0x59, 0xc0);
/** Mostly the child's section, now and then another or none. */
const childMostly = fc.oneof(
  { weight: 18, arbitrary: fc.constant(CHILD_SECTION) },
  { weight: 1, arbitrary: sectionBytes },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Every mix: mostly sections and any text. */
const plain = plainOf(8, 5);
/** What a worker logs most: ASCII messages without sections, now and then one with either. */
const plainMostlyBare = plainOf(1, 1);
/** One child logging: every record carries its section (runs share one gap). */
const plainOneChild = plainOf(10, 1, fc.constant(CHILD_SECTION));
const plainOneFloatChild = plainOf(10, 1, fc.constant(FLOAT_SECTION));
/** Mostly one child's records, sometimes another's or a bare one (runs of each layout). */
const plainChildMostly = plainOf(10, 1, childMostly);

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
  for (const [what, arbitrary] of [
    ["any mix of sections and text", plain],
    ["mostly ASCII messages without sections", plainMostlyBare],
    ["one child's section on every record", plainOneChild],
    ["one child's section with bytes above 0x7f on every record", plainOneFloatChild],
    ["mostly one child's section", plainChildMostly],
  ] as const) {
    it(`builds the same bytes as appendAt one by one, and stops at the same record when the batch fills (${what})`, () => {
      fc.assert(
        fc.property(
          fc.array(arbitrary, { maxLength: 700 }),
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
  }

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
