// One class per stable code: every error class the package exports has its own code, its name,
// and its row in the README's error table, and the LogmuxErrorCode union has no code without a
// class (the Record below stops compiling when the two drift apart).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as logmux from "../src/index.js";
import {
  AddressInUseError,
  ClosedError,
  HandlerError,
  InvalidConfigError,
  ListenFailedError,
  LogmuxError,
  type LogmuxErrorCode,
  NoMasterError,
  ProtocolError,
  StatusTimeoutError,
  UnsafePathError,
} from "../src/index.js";
import { tempDir } from "./helpers/processes.js";

/** One instance of each class, built as the library builds it. */
const byCode: Record<LogmuxErrorCode, () => LogmuxError> = {
  LOGMUX_INVALID_CONFIG: () => new InvalidConfigError("field", "expected x"),
  LOGMUX_PROTOCOL_ERROR: () => new ProtocolError("bad frame"),
  LOGMUX_ADDRESS_IN_USE: () => new AddressInUseError("/p", "in use"),
  LOGMUX_UNSAFE_PATH: () => new UnsafePathError("spool", "/p", "belongs to uid 1"),
  LOGMUX_LISTEN_FAILED: () => new ListenFailedError("/p", "cannot listen"),
  LOGMUX_HANDLER_ERROR: () => new HandlerError("FileLogHandler(/p)", "failed"),
  LOGMUX_CLOSED: () => new ClosedError("FileLogHandler(/p)"),
  LOGMUX_NO_MASTER: () => new NoMasterError("/p", "no master"),
  LOGMUX_STATUS_TIMEOUT: () => new StatusTimeoutError("/p", 5),
};

/** The README's error table as (code, class) pairs. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = new Map<string, string>();
  for (const match of readme.matchAll(/^\| `(LOGMUX_[A-Z_]+)` \| `(\w+)` \|/gm))
    rows.set(match[1]!, match[2]!);
  return rows;
}

describe("errors", () => {
  it("each code has one class, whose instances carry that code and the class's name", () => {
    const classes = new Set<unknown>();
    for (const [code, make] of Object.entries(byCode)) {
      const error = make();
      assert.ok(error instanceof LogmuxError && error instanceof Error);
      assert.equal(error.code, code);
      assert.equal(error.name, error.constructor.name);
      assert.ok(!classes.has(error.constructor), `${error.constructor.name} carries two codes`);
      classes.add(error.constructor);
    }
  });

  it("every error class the package exports is in that list", () => {
    const exported = Object.values(logmux).filter(
      (value) => typeof value === "function" && value.prototype instanceof LogmuxError,
    );
    const listed = new Set(Object.values(byCode).map((make) => make().constructor));
    assert.deepEqual(
      exported.filter((cls) => !listed.has(cls as never)).map((cls) => (cls as { name: string }).name),
      [],
    );
    assert.equal(exported.length, listed.size);
  });

  it("the README's error table lists exactly these codes and classes", () => {
    const expected = new Map(Object.entries(byCode).map(([code, make]) => [code, make().name]));
    assert.deepEqual([...readmeTable()].sort(), [...expected].sort());
  });

  it("queryStatus raises those classes: no master, a master that never answers, a bad reply", async (t) => {
    await assert.rejects(logmux.queryStatus("/nonexistent-logmux-dir/x.sock", 100), NoMasterError);
    await assert.rejects(logmux.queryStatus("/x.sock", 0), InvalidConfigError);
    const dir = tempDir(t);
    const silent = createServer(() => {});
    const garbage = createServer((socket) => socket.end(Buffer.from([1, 0, 0, 0, 0x7f])));
    t.after(() => {
      silent.close();
      garbage.close();
    });
    await new Promise<void>((done) => silent.listen(join(dir, "silent.sock"), done));
    await new Promise<void>((done) => garbage.listen(join(dir, "garbage.sock"), done));
    await assert.rejects(logmux.queryStatus(join(dir, "silent.sock"), 100), StatusTimeoutError);
    await assert.rejects(logmux.queryStatus(join(dir, "garbage.sock"), 1000), ProtocolError);
  });
});
