// The check the crash tests rely on must reject everything but the documented window: a gap, a
// reordering, a repeat that is not contiguous, more repeats than crashes, a repeat beyond one slice.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertDeliveredAcrossCrashes } from "../helpers/delivery.js";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const check = (indexes: number[], crashes = 1, count = 10) =>
  assertDeliveredAcrossCrashes(indexes, count, "w", { crashes, maxBatchBytes: 0, messageBytes: () => 10 });

describe("delivery across a master crash", () => {
  it("accepts exact delivery and one contiguous repeat per crash", () => {
    assert.deepEqual(check(range(0, 10)), { duplicated: 0, runs: [] });
    assert.deepEqual(check([...range(0, 6), ...range(3, 10)]), { duplicated: 3, runs: [[3, 5]] });
    assert.equal(check([...range(0, 4), ...range(2, 7), ...range(5, 10)], 2).duplicated, 4);
  });

  it("rejects a gap, a reordering, a broken repeat, more repeats than crashes, a lost tail", () => {
    assert.throws(() => check([0, 1, 3, 4, 5, 6, 7, 8, 9]), /records 2\.\.2 missing/);
    assert.throws(() => check([0, 2, 1, 3, 4, 5, 6, 7, 8, 9]), /missing/);
    assert.throws(() => check([...range(0, 6), 3, 5, ...range(6, 10)]), /broke off/);
    assert.throws(
      () => check([...range(0, 4), ...range(2, 7), ...range(5, 10)], 1),
      /2 repeated runs for 1 crashes/,
    );
    assert.throws(() => check(range(0, 8)), /2 records missing at the end/);
  });

  it("rejects a repeat larger than one handler slice", () => {
    const count = 30_000;
    const all = range(0, count);
    // 23 bytes a record on the wire: 20,000 records are far more than 256 KiB.
    assert.throws(
      () =>
        assertDeliveredAcrossCrashes([...all, ...range(10_000, count)].slice(0, count + 20_000), count, "w", {
          crashes: 1,
          maxBatchBytes: 0,
          messageBytes: () => 10,
        }),
      /more than one slice/,
    );
  });
});
