// TailRing keeps copies of the newest routed records in an arena of its own: whatever the batch
// sizes, record sizes and bounds, a query sees exactly the records a simple model of the two
// bounds keeps, and never memory the ring does not own (a socket read is reused or freed once
// routed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { TailFilter } from "../../src/master/tail-filter.js";
import { TailRing } from "../../src/master/tail-ring.js";
import { BATCH_HEADER_BYTES, RECORD_HEADER_BYTES } from "../../src/protocol/constants.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";
import type { RecordBatch, RecordSource } from "../../src/protocol/record-batch.js";
import type { TailQuery } from "../../src/protocol/tail.js";

const source: RecordSource = { name: "ring", nameBytes: Buffer.from("ring"), pid: 1 };
const ALL: TailQuery = {
  level: 0,
  workers: [],
  where: [],
  last: Number.MAX_SAFE_INTEGER,
  sinceMs: 0,
  follow: false,
};
const filter = new TailFilter(ALL, 0);

/** A routed batch of `messages`, decoded from its frame as the master decodes a worker's. */
function batchOf(messages: readonly string[], seq: number): RecordBatch {
  const bytes = messages.reduce((n, m) => n + RECORD_HEADER_BYTES + Buffer.byteLength(m), BATCH_HEADER_BYTES);
  const builder = new BatchBuilder(bytes);
  for (const m of messages) assert.ok(builder.appendAt(1.7e12, 2, m, undefined, undefined, 0));
  return decodeBatch(builder.seal(seq), source).batch;
}

function keptMessages(ring: TailRing, last = Number.MAX_SAFE_INTEGER): string[] {
  return ring
    .select(filter, last, 0, Date.now())
    .flatMap(({ batch, indices }) => indices.map((i) => batch.message(i)));
}

/** What the two bounds keep: each batch trimmed to what fits, the oldest dropped as the ring says. */
function model(batches: readonly string[][], maxRecords: number, maxBytes: number): string[] {
  let kept: { messages: string[]; bytes: number }[] = [];
  for (const messages of batches) {
    if (messages.length === 0) continue;
    let first = Math.max(0, messages.length - maxRecords);
    const bytesFrom = (f: number) =>
      messages.slice(f).reduce((n, m) => n + RECORD_HEADER_BYTES + Buffer.byteLength(m), BATCH_HEADER_BYTES);
    while (first < messages.length && bytesFrom(first) > maxBytes) first++;
    if (first === messages.length) {
      kept = [];
      continue;
    }
    const entry = { messages: messages.slice(first), bytes: bytesFrom(first) };
    let records = kept.reduce((n, k) => n + k.messages.length, 0) + entry.messages.length;
    while (kept.length > 0 && records - kept[0]!.messages.length >= maxRecords)
      records -= kept.shift()!.messages.length;
    while (kept.length > 0 && kept.reduce((n, k) => n + k.bytes, 0) + entry.bytes > maxBytes) kept.shift();
    kept.push(entry);
  }
  return kept.flatMap((k) => k.messages).slice(-maxRecords);
}

describe("TailRing", () => {
  it("keeps what the record and byte bounds say, for any batches", () => {
    // Message lengths: mostly short, some long enough that the byte bound, the trimming of one
    // batch and the arena's growth all come into play.
    const length = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
      { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 150_000 }) },
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(length, { maxLength: 30 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 256 * 1024, max: 400 * 1024 }),
        (lengths, maxRecords, maxBytes) => {
          const batches = lengths.map((b, seq) => b.map((n, i) => `${seq}.${i} ${"x".repeat(n)}`));
          const ring = new TailRing(maxRecords, maxBytes);
          for (const [seq, messages] of batches.entries()) ring.push(batchOf(messages, seq));
          assert.deepEqual(keptMessages(ring), model(batches, maxRecords, maxBytes));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("owns what it keeps: the routed frames may be overwritten, and what a query returned stays", () => {
    const ring = new TailRing(1000, 256 * 1024);
    const frames: Buffer[] = [];
    for (let b = 0; b < 50; b++) {
      const batch = batchOf(
        Array.from({ length: 30 }, (_, i) => `batch ${b} record ${i}`),
        b,
      );
      ring.push(batch);
      frames.push(batch.buffer);
    }
    const expected = Array.from({ length: 1000 }, (_, k) => {
      const n = 50 * 30 - 1000 + k;
      return `batch ${Math.floor(n / 30)} record ${n % 30}`;
    });
    // As a socket read is, once routed: reused for other bytes.
    for (const frame of frames) frame.fill(0x21, BATCH_HEADER_BYTES);
    const selected = ring.select(filter, 1000, 0, Date.now());
    assert.deepEqual(
      selected.flatMap(({ batch, indices }) => indices.map((i) => batch.message(i))),
      expected,
    );
    // The ring moves on (compacting and reusing its arena); a tail's selection must not move with it.
    for (let b = 50; b < 200; b++)
      ring.push(
        batchOf(
          Array.from({ length: 30 }, (_, i) => `later ${b} ${i}`),
          b,
        ),
      );
    assert.deepEqual(
      selected.flatMap(({ batch, indices }) => indices.map((i) => batch.message(i))),
      expected,
    );
    assert.deepEqual(keptMessages(ring, 2), ["later 199 28", "later 199 29"]);
  });
});
