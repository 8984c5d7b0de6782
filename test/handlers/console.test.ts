import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { Writable } from "node:stream";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { kPushBatches } from "../../src/handlers/base.js";
import { ConsoleLogHandler, detectColors } from "../../src/handlers/console.js";
import { LogLevel } from "../../src/levels.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";
import { capture, record } from "../helpers/fake-api.js";

const CHILD = fileURLToPath(new URL("../fixtures/console-child.js", import.meta.url));
const ESC = "\x1b[";
/** The reset code closes every coloured line and appears in no test message. */
const RESET = `${ESC}0m`;
const PLAIN_LINES = [
  "DEBUG child: debugging",
  'INFO child: hello "quoted" \\ backslash',
  "WARNING child: multi",
  "line",
  "ERROR child: ctrl \u0001 esc \u001b[31m tab\t end",
];

interface ChildSpec {
  options?: Record<string, unknown>;
  tty?: boolean;
  path?: "push" | "batch";
}

/** Runs the console child with a clean colour environment plus `env`. */
async function run(
  spec: ChildSpec,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const base = { ...process.env };
  for (const key of ["FORCE_COLOR", "NO_COLOR", "NODE_DISABLE_COLORS", "TERM"]) delete base[key];
  const child = spawn(process.execPath, [CHILD, JSON.stringify(spec)], {
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, "close")) as [number | null];
  assert.equal(code, 0, stderr);
  return { stdout, stderr };
}

for (const path of ["push", "batch"] as const) {
  test(`${path}: stdout that is not a TTY gets plain lines, everything on stdout by default`, async () => {
    const { stdout, stderr } = await run({ path });
    assert.ok(!stdout.includes(RESET), "no colour codes");
    const lines = stdout.split("\n");
    assert.deepEqual(lines.slice(0, PLAIN_LINES.length), PLAIN_LINES);
    assert.match(lines[PLAIN_LINES.length]!, /^CRITICAL child: /);
    assert.equal(stderr, "");
  });

  test(`${path}: stderr: true sends ERROR and CRITICAL to stderr, the rest to stdout`, async () => {
    const { stdout, stderr } = await run({ path, options: { stderr: true } });
    assert.deepEqual(stdout.split("\n").slice(0, 4), PLAIN_LINES.slice(0, 4));
    assert.ok(!stdout.includes("ERROR") && !stdout.includes("CRITICAL"));
    const errLines = stderr.split("\n");
    assert.equal(errLines[0], PLAIN_LINES[4]);
    assert.match(errLines[1]!, /^CRITICAL child: /);
  });

  test(`${path}: JSON lines are valid JSON whatever the message holds`, async () => {
    const { stdout } = await run({ path, options: { format: "json" } });
    const lines = stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 5);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      parsed.map((p) => p.level),
      [20, 30, 40, 50, 60],
    );
    assert.equal(parsed[1]!.msg, 'hello "quoted" \\ backslash');
    assert.equal(parsed[2]!.msg, "multi\nline");
    assert.equal(parsed[3]!.msg, "ctrl \u0001 esc \u001b[31m tab\t end");
    assert.equal(parsed[4]!.msg, path === "batch" ? "bad\ufffd\ufffd!" : "lone \ud800 surrogate");
    assert.equal(parsed[0]!.name, "child");
    assert.ok(Number.isInteger(parsed[0]!.time), "time is epoch milliseconds");
    assert.ok(!stdout.includes(RESET), "JSON is never coloured");
  });
}

test("FORCE_COLOR colours a pipe; FORCE_COLOR=0 does not", async () => {
  const forced = await run({ path: "batch" }, { FORCE_COLOR: "1" });
  assert.ok(forced.stdout.includes(`${ESC}31mERROR child`), forced.stdout);
  assert.ok(forced.stdout.includes(`${ESC}33mWARNING child`));
  assert.ok(forced.stdout.includes(`${ESC}0m\n`));
  const off = await run({ path: "batch" }, { FORCE_COLOR: "0" });
  assert.ok(!off.stdout.includes(RESET));
});

test("colors: true colours a pipe even under NO_COLOR (explicit configuration wins)", async () => {
  const { stdout } = await run({ path: "push", options: { colors: true } }, { NO_COLOR: "1" });
  assert.ok(stdout.includes(`${ESC}1;31mCRITICAL child`), stdout);
});

test("a TTY gets colours unless NO_COLOR is set", async () => {
  const tty = await run({ path: "batch", tty: true });
  assert.ok(tty.stdout.includes(`${ESC}31mERROR child`), tty.stdout);
  // INFO stays uncoloured; DEBUG is dimmed.
  assert.ok(tty.stdout.includes("\nINFO child: hello"));
  assert.ok(tty.stdout.startsWith(`${ESC}2mDEBUG child`));
  const noColor = await run({ path: "batch", tty: true }, { NO_COLOR: "1" });
  assert.ok(!noColor.stdout.includes(RESET), noColor.stdout);
  const dumb = await run({ path: "batch", tty: true }, { TERM: "dumb" });
  assert.ok(!dumb.stdout.includes(RESET));
});

test("detectColors follows FORCE_COLOR > NO_COLOR > TTY", () => {
  const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
  const pipe = {} as NodeJS.WritableStream;
  assert.equal(detectColors(tty, {}), true);
  assert.equal(detectColors(pipe, {}), false);
  assert.equal(detectColors(tty, { NO_COLOR: "1" }), false);
  assert.equal(detectColors(tty, { NO_COLOR: "" }), true, "an empty NO_COLOR is unset (no-color.org)");
  assert.equal(detectColors(pipe, { FORCE_COLOR: "" }), true);
  assert.equal(detectColors(tty, { FORCE_COLOR: "0", NO_COLOR: "" }), false);
  assert.equal(detectColors(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" }), true);
});

/** A slow destination: each write completes after `delayMs`, with a tiny buffer. */
function slowStream(delayMs: number): { stream: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setTimeout(callback, delayMs);
    },
  });
  return { stream, chunks };
}

test("one write per push, and a backed-up stream makes push() wait for 'drain'", async () => {
  const { stream, chunks } = slowStream(30);
  const handler = new ConsoleLogHandler({ stream, format: "%(message)s" });
  try {
    const builder = new BatchBuilder(4096);
    for (let i = 0; i < 50; i++) builder.append(LogLevel.INFO, `line ${i}`, undefined);
    const { batch } = decodeBatch(Buffer.from(builder.seal(1)), {
      name: "w",
      nameBytes: Buffer.from("w"),
      pid: 1,
    });
    const pending = handler[kPushBatches]([batch], LogLevel.TRACE);
    assert.ok(pending instanceof Promise, "push returns a promise while the stream is backed up");
    assert.equal(chunks.length, 1, "the whole batch is one write");
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await once(stream, "drain");
    await pending;
    assert.ok(settled);
    assert.equal(chunks[0]!.toString().split("\n").length, 51);
    // With room in the stream, push() does not return a promise.
    const fast = new ConsoleLogHandler({
      stream: new Writable({ write: (_c, _e, cb) => cb() }),
      format: "%(message)s",
    });
    assert.equal(fast.push([record("x", LogLevel.INFO)]), undefined);
    await fast.close();
  } finally {
    await handler.close();
  }
});

test("a failing stream is reported once instead of crashing the process", async () => {
  const stream = new Writable({
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    },
  });
  const handler = new ConsoleLogHandler({ stream, format: "%(message)s" });
  const captured = capture(handler);
  await handler.push([record("a", LogLevel.INFO)]);
  await handler.push([record("b", LogLevel.INFO)]);
  assert.equal(stream.destroyed, true);
  await handler.close();
  assert.equal(captured.errors.length, 1);
  assert.match(captured.errors[0]!, /EPIPE/);
});

test("close() is idempotent and leaves process.stdout open", async () => {
  const handler = new ConsoleLogHandler();
  await Promise.all([handler.close(), handler.close()]);
  assert.equal(process.stdout.writable, true);
});
