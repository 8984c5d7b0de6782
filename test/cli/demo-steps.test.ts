// The demo's summary counts the lines of its log file per worker. A burst can write close to a
// gigabyte, more than one JavaScript string holds, so the file is read in chunks: lines and
// characters cut by a chunk's end must count exactly as whole ones.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { countLines } from "../../src/cli/demo-steps.js";
import { tempDir } from "../helpers/processes.js";

describe("the demo's line count", () => {
  it("counts each worker's lines exactly whatever the chunk size, names with multi-byte characters included", (t) => {
    const file = join(tempDir(t), "demo.log");
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      const name = ["worker-1", "wörker-2", "MASTER"][i % 3]!;
      lines.push(`2026-12-02 10:14:08,143 [INFO] ${name} - request ${i} é🎉\n  an indented stack line`);
    }
    writeFileSync(file, `${lines.join("\n")}\n`);
    for (const chunk of [1, 7, 64, 1 << 20]) {
      assert.deepEqual(
        Object.fromEntries(countLines(file, chunk)),
        { "worker-1": 100, "wörker-2": 100, MASTER: 100 },
        `chunks of ${chunk} bytes`,
      );
    }
  });

  it("reads a missing file as no lines", (t) => {
    assert.equal(countLines(join(tempDir(t), "absent.log")).size, 0);
  });
});
