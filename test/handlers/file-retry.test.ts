// FileLogHandler on its own against a real full disk (a 1 MiB tmpfs): the write that the disk cuts
// short, in both write modes, and close() while the disk still refuses.
import assert from "node:assert/strict";
import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { FileLogHandler, LogLevel, type LogRecord } from "../../src/index.js";
import { waitFor } from "../helpers/processes.js";
import { captureStderr } from "../helpers/stderr.js";
import { fillDisk, mountTmpfs } from "../helpers/tmpfs.js";

/** With its newline. Not a divisor of the 4 KiB page, so the disk runs out in the middle of a line. */
const LINE_BYTES = 77;
const BATCH = 1000;

function records(from: number, count: number): LogRecord[] {
  return Array.from({ length: count }, (_, k) => {
    const head = `r${String(from + k).padStart(6, "0")} `;
    const message = head + "x".repeat(LINE_BYTES - 1 - head.length);
    return { timestampNs: 0n, level: LogLevel.INFO, name: "t", pid: 1, message };
  });
}

interface Rig {
  path: string;
  handler: FileLogHandler;
  filler: string;
  /** How the second batch's push (started with the disk full) ended; `settled` turns true then. */
  outcome: Promise<{ error?: Error }>;
  state: { settled: boolean };
}

/**
 * One batch written, the disk filled, a second batch pushed: the file takes what fits in its last
 * page and the push waits. Resolves once that short write is on the file.
 */
async function fillMidBatch(t: TestContext, sync: boolean): Promise<Rig | undefined> {
  const mount = mountTmpfs(t, 1024 * 1024);
  if (typeof mount !== "string") {
    t.skip(`needs root to mount a tmpfs: ${mount.skip}`);
    return undefined;
  }
  const path = join(mount, "app.log");
  const handler = new FileLogHandler(path, { format: "%(message)s", sync });
  t.after(() => handler.close());
  await handler.push(records(0, BATCH));
  const filler = fillDisk(mount);
  const state = { settled: false };
  const outcome = Promise.resolve(handler.push(records(BATCH, BATCH))).then(
    () => ({}),
    (error: Error) => ({ error }),
  );
  outcome.then(() => {
    state.settled = true;
  });
  // No event says the kernel took part of a write: the file's size does.
  await waitFor(() => statSync(path).size > BATCH * LINE_BYTES, 5000, "the short write");
  assert.notEqual(statSync(path).size % LINE_BYTES, 0, "the disk should have cut a line short");
  return { path, handler, filler, outcome, state };
}

describe("FileLogHandler when the disk fills mid-write", () => {
  for (const sync of [true, false]) {
    it(`sync: ${sync}: the cut-short write resumes where it stopped once space returns`, async (t) => {
      let rig: Rig | undefined;
      const stderr = await captureStderr(async () => {
        rig = await fillMidBatch(t, sync);
        if (rig === undefined) return;
        assert.equal(rig.state.settled, false, "the push should wait while the disk is full");
        rmSync(rig.filler);
        assert.deepEqual(await rig.outcome, {});
      });
      if (rig === undefined) return;
      // Exactly the lines pushed, in order: nothing written twice, nothing torn, nothing missing.
      const expected = records(0, 2 * BATCH).map((r) => `${r.message}\n`);
      assert.equal(readFileSync(rig.path, "utf8"), expected.join(""));
      const text = stderr.join("");
      assert.ok(text.includes(`FileLogHandler(${rig.path}): Error: write refused (attempt 1`), text);
      assert.match(text, /ENOSPC/);
      assert.match(text, /writes work again after \d+ ms and \d+ refused attempts/);
    });

    it(`sync: ${sync}: close() while the disk refuses gives up and says exactly what it never wrote`, async (t) => {
      let rig: Rig | undefined;
      const stderr = await captureStderr(async () => {
        rig = await fillMidBatch(t, sync);
        if (rig === undefined) return;
        await rig.handler.close();
      });
      if (rig === undefined) return;
      const { error } = await rig.outcome;
      assert.ok(error, "the push should fail when the handler closes on a full disk");
      const size = statSync(rig.path).size;
      const match = /^closed with (\d+) bytes \((\d+) lines\) never written; (.*)$/.exec(error.message);
      assert.ok(match, error.message);
      assert.equal(Number(match[1]), 2 * BATCH * LINE_BYTES - size, "bytes never written");
      assert.equal(Number(match[2]), 2 * BATCH - Math.floor(size / LINE_BYTES), "lines never written");
      // The newline that would end the cut-short line needs a byte the full disk does not have.
      assert.equal(match[3], "the first of them is in the file cut short, with no newline after it");
      assert.match(String((error.cause as Error | undefined)?.message), /ENOSPC/);
      assert.ok(stderr.join("").includes(`FileLogHandler(${rig.path})`), stderr.join(""));
    });
  }
});
