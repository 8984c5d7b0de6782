import assert from "node:assert/strict";
import { test } from "node:test";
import { DropReporter, plural } from "../../../src/handlers/kit/drop-reporter.js";

test("drops within an interval become one report with the exact sum; flush reports the rest", async () => {
  const reports: number[] = [];
  let reported!: () => void;
  const first = new Promise<void>((resolve) => {
    reported = resolve;
  });
  const drops = new DropReporter((count) => {
    reports.push(count);
    reported();
  }, 20);
  drops.add(3);
  drops.add(0);
  drops.add(4);
  // The report timer is unref'd (a pending report never holds the process), so the test holds it.
  const alive = setInterval(() => {}, 1000);
  await first;
  clearInterval(alive);
  assert.deepEqual(reports, [7]);
  drops.add(2);
  drops.flush();
  drops.flush();
  assert.deepEqual(reports, [7, 2]);
  assert.equal(drops.total, 9);
});

test("plural: grouped for the chat handlers, plain for OTLP and syslog", () => {
  assert.equal(plural(1, "line"), "1 line");
  assert.equal(plural(9950, "earlier line"), "9,950 earlier lines");
  assert.equal(plural(10_000, "record", false), "10000 records");
});
