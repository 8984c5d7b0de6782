// What "nothing lost, nothing twice" can promise across a master crash, checked exactly. A crash
// between a handler slice reaching the file and its commit-journal entry (docs/reliability.md, "The
// remaining duplicate window") makes the next master deliver that slice again; nothing else may
// repeat, and nothing may be missing or out of order.
import assert from "node:assert/strict";
import { MAX_PUSH_BYTES } from "../../src/master/handler-queue.js";
import { RECORD_HEADER_BYTES } from "../../src/protocol/constants.js";

export interface CrashDelivery {
  /** Records delivered twice (all inside the allowed runs). */
  duplicated: number;
  /** The repeated runs, as [first index, last index]. */
  runs: [number, number][];
}

/**
 * `indexes` are one worker's record numbers in file order, expected 0..count-1. Passes when every
 * record is there, in order, except for at most `crashes` runs that repeat a contiguous stretch of
 * records just before the point reached, each no larger on the wire than one handler slice
 * (MAX_PUSH_BYTES, plus the batch that crossed it: `maxBatchBytes`).
 */
export function assertDeliveredAcrossCrashes(
  indexes: number[],
  count: number,
  who: string,
  options: { crashes: number; maxBatchBytes: number; messageBytes: (index: number) => number },
): CrashDelivery {
  const runs: [number, number][] = [];
  let next = 0;
  let duplicated = 0;
  for (let at = 0; at < indexes.length; ) {
    const index = indexes[at]!;
    if (index === next) {
      next++;
      at++;
      continue;
    }
    if (index > next) assert.fail(`${who}: records ${next}..${index - 1} missing (at position ${at})`);
    // A repeat: it must run contiguously up to where delivery had got, then delivery goes on.
    const start = index;
    let bytes = 0;
    for (let expected = start; expected < next; expected++, at++) {
      if (indexes[at] !== expected) {
        assert.fail(`${who}: repeat from ${start} broke off at position ${at} (${indexes[at]})`);
      }
      bytes += RECORD_HEADER_BYTES + options.messageBytes(expected);
    }
    const limit = MAX_PUSH_BYTES + options.maxBatchBytes;
    assert.ok(
      bytes <= limit,
      `${who}: repeated ${next - start} records (${bytes} B), more than one slice (${limit} B)`,
    );
    runs.push([start, next - 1]);
    duplicated += next - start;
  }
  assert.equal(next, count, `${who}: ${count - next} records missing at the end`);
  assert.ok(
    runs.length <= options.crashes,
    `${who}: ${runs.length} repeated runs for ${options.crashes} crashes`,
  );
  return { duplicated, runs };
}

/** `indexes` are exactly 0..count-1, each once, in order: delivery with no crash to excuse a repeat. */
export function assertExactlyOnceInOrder(indexes: number[] | undefined, count: number, who: string): void {
  assert.ok(indexes, `${who}: no records`);
  assertDeliveredAcrossCrashes(indexes, count, who, { crashes: 0, maxBatchBytes: 0, messageBytes: () => 0 });
}
