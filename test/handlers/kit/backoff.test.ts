import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../../../src/handlers/kit/backoff.js";

test("the ceiling doubles from minMs up to maxMs", () => {
  const backoff = new Backoff({ minMs: 10, maxMs: 100, jitter: "none" });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 60].map((n) => backoff.delay(n)),
    [10, 20, 40, 80, 100, 100],
  );
});

test("full jitter draws in [0, ceiling]; equal jitter in [ceiling / 2, ceiling]", () => {
  const low = new Backoff({ minMs: 100, maxMs: 1000, jitter: "full" }, () => 0);
  const high = new Backoff({ minMs: 100, maxMs: 1000, jitter: "full" }, () => 0.999);
  assert.equal(low.delay(3), 0);
  assert.ok(high.delay(3) > 399 && high.delay(3) < 400);
  const equal = new Backoff({ minMs: 100, maxMs: 1000, jitter: "equal" }, () => 0);
  assert.equal(equal.delay(3), 200);
});

test("next() counts failures, peek() shows the delay next() will return, reset() starts over", () => {
  let draws = 0;
  const backoff = new Backoff({ minMs: 10, maxMs: 1000, jitter: "full" }, () => {
    draws++;
    return 0.5;
  });
  assert.equal(backoff.peek(), 5);
  assert.equal(backoff.peek(), 5);
  assert.equal(draws, 1, "peek draws once");
  assert.equal(backoff.next(), 5);
  assert.equal(backoff.next(), 10);
  assert.equal(backoff.failures, 2);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.next(), 5);
});
