import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BaseLogHandler,
  FileLogHandler,
  InvalidConfigError,
  LoggerConfig,
  LogLevel,
  MasterLogger,
  WorkerLogger,
} from "../src/index.js";

function rejects(options: unknown, field: string, accepted: RegExp): void {
  assert.throws(
    () => new LoggerConfig(options as never),
    (error: unknown) => {
      assert.ok(error instanceof InvalidConfigError, `expected InvalidConfigError, got ${String(error)}`);
      assert.equal(error.code, "LOGMUX_INVALID_CONFIG");
      assert.equal(error.field, field);
      assert.match(error.message, new RegExp(`\\b${field}\\b`));
      assert.match(error.message, accepted);
      return true;
    },
  );
}

describe("LoggerConfig", () => {
  it("has the documented defaults", () => {
    const config = new LoggerConfig();
    assert.equal(config.baseLevel, LogLevel.INFO);
    assert.equal(config.flushIntervalMs, 1000);
    assert.equal(config.heartbeatIntervalMs, 60_000);
    assert.equal(config.strFormat, "%(asctime)s [%(levelname)s] %(name)s - %(message)s");
    assert.match(config.path, /^ipc:\/\/\/.+\/default\.sock$/);
    assert.match(config.socketPath, /(logmux-\d+|logmux)\/default\.sock$/);
    assert.equal(config.onBackpressure, "block");
    assert.equal(config.maxBatchBytes, 256 * 1024);
    assert.ok(Object.isFrozen(config));
  });

  it("sizes the default batch to a smaller maxFrameBytes or maxBacklogBytes instead of refusing them", () => {
    assert.equal(new LoggerConfig({ maxFrameBytes: 64 * 1024 }).maxBatchBytes, 64 * 1024);
    assert.equal(new LoggerConfig({ maxBacklogBytes: 512 * 1024 }).maxBatchBytes, 128 * 1024);
    assert.equal(new LoggerConfig({ maxBacklogBytes: 2048 }).maxBatchBytes, 1024);
    // An explicit batch size is the caller's: checked, not adjusted.
    assert.equal(new LoggerConfig({ maxBatchBytes: 4096, maxBacklogBytes: 2048 }).maxBatchBytes, 4096);
  });

  it("accepts levels by number and by name", () => {
    assert.equal(new LoggerConfig({ baseLevel: LogLevel.DEBUG }).baseLevel, 1);
    assert.equal(new LoggerConfig({ baseLevel: "warn" }).baseLevel, LogLevel.WARNING);
    assert.equal(new LoggerConfig({ baseLevel: "CRITICAL" }).baseLevel, 5);
  });

  it("parses ipc:// paths", () => {
    assert.equal(new LoggerConfig({ path: "ipc:///tmp/my_app_logger" }).socketPath, "/tmp/my_app_logger");
  });

  it("names the field and the accepted values for every bad value", () => {
    rejects({ strFormat: "%(asctime)s only" }, "strFormat", /%\(message\)s/);
    rejects({ strFormat: 42 }, "strFormat", /%\(message\)s/);
    rejects({ flushIntervalMs: 0 }, "flushIntervalMs", /positive integer/);
    rejects({ flushIntervalMs: -5 }, "flushIntervalMs", /positive integer, got -5/);
    rejects({ flushIntervalMs: Number.NaN }, "flushIntervalMs", /positive integer/);
    rejects({ heartbeatIntervalMs: 0 }, "heartbeatIntervalMs", /positive integer/);
    rejects({ heartbeatIntervalMs: "60s" }, "heartbeatIntervalMs", /positive integer, got "60s"/);
    rejects({ path: "/tmp/x.sock" }, "path", /"ipc:\/\/" followed by an absolute socket path/);
    rejects({ path: "ipc://relative/x.sock" }, "path", /absolute/);
    rejects({ path: "tcp://127.0.0.1:9000" }, "path", /ipc:\/\//);
    rejects({ path: `ipc:///tmp/${"a".repeat(120)}` }, "path", /at most 107/);
    rejects({ baseLevel: 9 }, "baseLevel", /TRACE, DEBUG, INFO, WARNING/);
    rejects({ baseLevel: "verbose" }, "baseLevel", /got "verbose"/);
    rejects({ onBackpressure: "spill" }, "onBackpressure", /"block" or "drop"/);
    rejects({ maxBatchBytes: 64 * 1024 * 1024 }, "maxBatchBytes", /must not exceed maxFrameBytes/);
    rejects({ reconnectMinMs: 500, reconnectMaxMs: 100 }, "reconnectMaxMs", /at least reconnectMinMs/);
    rejects(null, "options", /expected an object/);
  });
});

describe("constructors validate their arguments", () => {
  it("MasterLogger and WorkerLogger want a LoggerConfig and handlers", () => {
    assert.throws(() => new MasterLogger({} as never), /Invalid config: expected a LoggerConfig/);
    assert.throws(
      () => new MasterLogger(new LoggerConfig({ path: "ipc:///tmp/lmx-unused.sock" }), [{} as never]),
      /Invalid handlers\[0\]: expected an instance of a BaseLogHandler subclass/,
    );
    assert.throws(() => new WorkerLogger({} as never), /Invalid config/);
    assert.throws(() => new WorkerLogger(new LoggerConfig(), ""), /Invalid name/);
  });

  it("handlers reject unknown levels and formats without %(message)s", () => {
    class Noop extends BaseLogHandler {
      push(): void {}
    }
    assert.throws(() => new Noop({ level: "loud" }), /Invalid level: expected a LogLevel/);
    assert.throws(() => new Noop({ format: "%(asctime)s" }), /Invalid format: must be a string containing/);
    assert.equal(new Noop({ level: "error" }).level, LogLevel.ERROR);
  });

  it("FileLogHandler with create: false refuses a missing file at construction", () => {
    assert.throws(
      () => new FileLogHandler("/nonexistent-dir-lmx/app.log", { create: false }),
      (error: InvalidConfigError) => {
        assert.equal(error.field, "path");
        assert.match(error.message, /does not exist and create is false/);
        return true;
      },
    );
  });
});
