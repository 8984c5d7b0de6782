import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { FileLogHandler, LoggerConfig, MasterLogger } from "../../src/index.js";
import { exited, forkFixture, nextMessage, tempDir } from "../helpers/processes.js";
import { parseStrict } from "../helpers/strict-json.js";

interface Done {
  pid: number;
  errStack: string;
  causeStack: string;
}

interface Run extends Done {
  file: string;
  /** The worker's lines (the master's own records left out), as written. */
  lines: string[];
  before: number;
  after: number;
}

/** A real master in this process writing JSON lines to a file; a forked worker logging to it. */
async function run(t: TestContext): Promise<Run> {
  const dir = tempDir(t);
  const config = { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 50 };
  const file = join(dir, "app.jsonl");
  const master = new MasterLogger(new LoggerConfig(config), [new FileLogHandler(file, { format: "json" })]);
  t.after(() => master.shutdown());
  await master.ready();
  const before = Date.now();
  const child = forkFixture(t, "json-worker.js", { config });
  const done = await nextMessage<Done>(child, "done");
  await exited(child);
  const after = Date.now();
  // The worker's shutdown() waited for the master's acknowledgement: its lines are on the file.
  await master.shutdown();
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "" && (JSON.parse(line) as { name: string }).name === "api");
  return { ...done, file, lines, before, after };
}

describe("JSON lines across real processes", () => {
  it("a worker's fields, child bindings and error with cause reach the file as pino's JSON", async (t) => {
    const r = await run(t);
    assert.equal(r.lines.length, 4, r.lines.join("\n"));
    const parsed = r.lines.map((line) => parseStrict(line).value as Record<string, unknown>);
    for (const p of parsed) {
      const time = p.time as number;
      // The worker's clock is performance.timeOrigin + now(); allow it to differ from Date.now() a little.
      assert.ok(Number.isInteger(time) && time >= r.before - 1000 && time <= r.after + 1000, String(time));
      p.time = 0;
    }
    const line = { time: 0, pid: r.pid, hostname: hostname(), name: "api" };
    const bindings = { reqId: "r-1", user: { id: 7, roles: ["admin"] } };
    assert.deepEqual(parsed, [
      { level: 30, ...line, msg: "listening", port: 8080, host: "0.0.0.0", tls: false, ratio: 0.25 },
      { level: 40, ...line, msg: "slow request /orders took 812 ms", ...bindings, durationMs: 812.5 },
      {
        level: 50,
        ...line,
        msg: "db call failed",
        ...bindings,
        err: {
          type: "Error",
          message: "query failed",
          stack: r.errStack,
          code: "E_QUERY",
          cause: { type: "Error", message: "connection refused", stack: r.causeStack, code: "ECONNREFUSED" },
        },
      },
      {
        level: 30,
        ...line,
        msg: "clash",
        reqId: "r-2",
        user: bindings.user,
        "fields.msg": "inner",
        big: 12345678901234567890n,
        at: "1970-01-01T00:00:00.000Z",
      },
    ]);
    // The child's binding reqId keeps its place, with the call's value.
    assert.deepEqual(parseStrict(r.lines[3]!).keys.slice(6), ["reqId", "user", "fields.msg", "big", "at"]);
  });

  it("pino-pretty reads the file: level labels, time, name, message, fields and the error stack", async (t) => {
    const r = await run(t);
    const bin = createRequire(import.meta.url).resolve("pino-pretty/bin.js");
    const pretty = spawn(
      process.execPath,
      [bin, "--colorize", "false", "--translateTime", "UTC:yyyy-mm-dd HH:MM:ss.l"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    t.after(() => {
      if (pretty.exitCode === null && pretty.signalCode === null) pretty.kill("SIGKILL");
    });
    let out = "";
    let err = "";
    pretty.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    pretty.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    const closed = new Promise<number | null>((resolve) => pretty.once("close", resolve));
    pretty.stdin.end(`${r.lines.join("\n")}\n`);
    assert.equal(await closed, 0, err);
    const utc = (line: string): string =>
      new Date((JSON.parse(line) as { time: number }).time).toISOString().replace("T", " ").replace("Z", "");
    const has = (text: string): void =>
      assert.ok(out.includes(text), `missing ${JSON.stringify(text)} in:\n${out}`);
    has(`[${utc(r.lines[0]!)}] INFO (api/${r.pid}): listening\n`);
    has("    port: 8080\n");
    has('    host: "0.0.0.0"\n');
    has(`[${utc(r.lines[1]!)}] WARN (api/${r.pid}): slow request /orders took 812 ms\n`);
    has('    reqId: "r-1"\n');
    has("    durationMs: 812.5\n");
    has(`[${utc(r.lines[2]!)}] ERROR (api/${r.pid}): db call failed\n`);
    has('"code": "E_QUERY"');
    has('"code": "ECONNREFUSED"');
    // The stacks as pino-pretty prints them: each frame a line of its own, not an escaped string.
    for (const frame of [...r.errStack.split("\n"), ...r.causeStack.split("\n")]) {
      const escaped = frame.trim().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      assert.match(out, new RegExp(`^ +${escaped}$`, "m"));
    }
    has(`[${utc(r.lines[3]!)}] INFO (api/${r.pid}): clash\n`);
    has('    fields.msg: "inner"\n');
    has('    at: "1970-01-01T00:00:00.000Z"\n');
  });
});
