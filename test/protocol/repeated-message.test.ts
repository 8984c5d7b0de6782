// BatchBuilder.appendAt copies the bytes of a message it encoded for the previous record when the
// next record has the same text (a %-template, a constant message), instead of encoding it again.
// Whatever the sequence of messages, the batch must decode to exactly the messages given, also
// after reset() has reused the buffer the remembered bytes were in.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LogLevel } from "../../src/levels.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";
import { ValueWriter } from "../../src/protocol/value-writer.js";
import { DEFAULT_FIELD_LIMITS } from "../../src/protocol/values.js";

const SOURCE = { name: "w", nameBytes: Buffer.from("w"), pid: 1 };

/** Short and long, ASCII and not, empty: repeats of each take the copy. */
const POOL = [
  "order %s filled at %d",
  "user logged in",
  "request handled: GET /api/items/42 status=200 in 3.1ms, a message longer than the byte loop takes",
  "é",
  "naïve café ✓",
  "",
  "🎉 done",
];

/** A values section with no arguments and one field, so records carry values after their message. */
function valuesOf(text: string): { values: Uint8Array; length: number } {
  const writer = new ValueWriter({ ...DEFAULT_FIELD_LIMITS });
  writer.reset();
  writer.u8(0);
  writer.key("text");
  writer.string(text);
  return { values: Uint8Array.prototype.slice.call(writer.memory, 0, writer.pos), length: writer.pos };
}

function decodedMessages(builder: BatchBuilder): string[] {
  const { batch } = decodeBatch(builder.seal(1), SOURCE);
  return Array.from({ length: batch.count }, (_, i) => batch.message(i));
}

describe("BatchBuilder.appendAt with a message repeated", () => {
  it("decodes to the messages given, in order, for any sequence and any room", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pick: fc.nat(POOL.length - 1), withValues: fc.boolean() }), { maxLength: 300 }),
        fc.integer({ min: 64, max: 16 * 1024 }),
        (records, capacity) => {
          const builder = new BatchBuilder(capacity);
          const appended: string[] = [];
          for (const { pick, withValues } of records) {
            // A fresh string each time (not the pool's object): equal text, not the same reference.
            const message = [...POOL[pick]!].join("");
            const { values, length } = withValues ? valuesOf(message) : { values: undefined, length: 0 };
            if (!builder.appendAt(1.75e12, LogLevel.INFO, message, undefined, values, length)) break;
            appended.push(message);
          }
          assert.deepEqual(decodedMessages(builder), appended);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("after reset(), a repeat of a message from before is encoded again, not copied from reused bytes", () => {
    const builder = new BatchBuilder(4096);
    const first = "first message, long enough";
    assert.ok(builder.appendAt(1.75e12, LogLevel.INFO, first, undefined, undefined, 0));
    builder.reset();
    // A run of plain records (not appendAt's own path) lands where the first message was.
    const others = ["zzzz zzzz zzzz zzzz zzzz zzzz", "yyyy", "xxxx", "wwww"];
    const times = Float64Array.from(others, () => 1.75e12);
    const levels = Uint8Array.from(others, () => LogLevel.INFO);
    const sections = others.map(() => undefined);
    assert.equal(builder.appendPlainRun(times, levels, others, sections, 0, others.length), others.length);
    assert.ok(builder.appendAt(1.75e12, LogLevel.INFO, first, undefined, undefined, 0));
    assert.deepEqual(decodedMessages(builder), [...others, first]);
  });
});
