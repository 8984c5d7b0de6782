// The worker's clock (nowMs) reads process.hrtime() against an anchor taken once: it must agree
// with performance.timeOrigin + performance.now() (the wall clock other processes and the tests
// read) to within a few microseconds, and never run backwards.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nowMs } from "../../src/protocol/clock.js";

/** Wall time from performance, the reference nowMs() is anchored to. */
const wallMs = () => performance.timeOrigin + performance.now();

describe("nowMs", () => {
  it("reads between two reads of performance's wall time, within 5 µs", () => {
    // The anchor is taken when the module loads; a cold first read there once put every stamp
    // ~30 µs early, before the records it was compared with (plain-queue.test.ts).
    for (let i = 0; i < 10_000; i++) {
      const before = wallMs();
      const now = nowMs();
      const after = wallMs();
      assert.ok(
        now >= before - 0.005 && now <= after + 0.005,
        `read ${i}: ${now} is outside ${before}..${after} by more than 5 µs`,
      );
    }
  });

  it("never runs backwards and has sub-millisecond resolution", () => {
    let last = nowMs();
    let fractional = 0;
    for (let i = 0; i < 100_000; i++) {
      const now = nowMs();
      assert.ok(now >= last, `read ${i} went back from ${last} to ${now}`);
      if (now !== Math.floor(now)) fractional++;
      last = now;
    }
    assert.ok(fractional > 90_000, `only ${fractional} of 100,000 reads had a sub-millisecond part`);
  });
});
