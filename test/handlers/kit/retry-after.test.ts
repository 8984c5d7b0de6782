import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryAfterSecondsToMs,
} from "../../../src/handlers/kit/retry-after.js";

test("Retry-After: delay-seconds and HTTP-date", () => {
  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test("fractions, as Discord and Slack send them, are accepted everywhere", () => {
  assert.equal(parseRetryAfter("1.5"), 1500);
  assert.equal(parseRetryAfter(" 0.25 "), 250);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter(""), undefined);
  for (const bad of ["-1", "1e3", "0x10", "1.", ".5", "2 s"])
    assert.equal(parseRetryAfter(bad), undefined, bad);
});

test("a date in the past is 0, and every answer is clamped to MAX_RETRY_AFTER_MS", () => {
  assert.equal(parseRetryAfter(new Date(1000).toUTCString(), 50_000), 0);
  assert.equal(parseRetryAfter("999999999"), MAX_RETRY_AFTER_MS);
  assert.equal(retryAfterSecondsToMs(1e12), MAX_RETRY_AFTER_MS);
});

test("JSON retry_after: non-negative finite seconds only", () => {
  assert.equal(retryAfterSecondsToMs(0.75), 750);
  assert.equal(retryAfterSecondsToMs(2), 2000);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "2", null, undefined, {}]) {
    assert.equal(retryAfterSecondsToMs(bad), undefined, String(bad));
  }
});

test("property: delta-seconds with up to 3 decimals parse to exactly their ms, clamped", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 999 }), (whole, milli) => {
      const text = `${whole}.${String(milli).padStart(3, "0")}`;
      const expected = Math.min(MAX_RETRY_AFTER_MS, whole * 1000 + milli);
      assert.ok(Math.abs((parseRetryAfter(text) ?? Number.NaN) - expected) < 1e-6, text);
    }),
  );
});

test("property: an IMF-fixdate parses to its distance from now, never negative, clamped", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4_000_000_000 }),
      fc.integer({ min: -10_000_000, max: 10_000_000 }),
      (seconds, offset) => {
        const now = seconds * 1000;
        const date = new Date(now + offset * 1000);
        const expected = Math.min(MAX_RETRY_AFTER_MS, Math.max(0, offset * 1000));
        assert.equal(parseRetryAfter(date.toUTCString(), now), expected);
      },
    ),
  );
});

test("property: any string parses to undefined or a delay within [0, MAX_RETRY_AFTER_MS]", () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const ms = parseRetryAfter(text);
      assert.ok(
        ms === undefined || (ms >= 0 && ms <= MAX_RETRY_AFTER_MS),
        `${JSON.stringify(text)} -> ${ms}`,
      );
    }),
  );
});
