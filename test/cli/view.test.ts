// The burst's figure says "all in the file" only when the file handler counted every record the
// workers logged in the burst; a worker whose shutdown timed out (it spooled the rest) shows as
// fewer, never as all.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BurstFigure, burstLines } from "../../src/cli/view.js";

const done = (records: number, written: number): BurstFigure => ({
  state: "done",
  workers: 2,
  burstMs: 1000,
  records,
  written,
  elapsedMs: 1200,
  pino: { processes: 2, linesPerSecond: 566_000 },
});

describe("the demo's burst figure", () => {
  it("says every record is in the file when the file handler counted them all", () => {
    const [first] = burstLines(done(250_000, 250_000));
    assert.match(first!, /250,000 records logged in .* by 2 workers, all in the file after /);
  });

  it("says how many are in the file when fewer were written", () => {
    const [first] = burstLines(done(250_000, 249_000));
    assert.doesNotMatch(first!, /all in the file/);
    assert.match(first!, /by 2 workers, 249,000 of them in the file after /);
  });
});
