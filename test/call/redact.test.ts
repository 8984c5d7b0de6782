import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { parseRedactPath } from "../../src/call/redact-paths.js";
import {
  InvalidConfigError,
  LoggerConfig,
  type LoggerConfigOptions,
  type LogRecord,
  MasterLogger,
  WorkerLogger,
} from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import { exited, forkFixture, nextMessage, tempDir } from "../helpers/processes.js";

/**
 * A relay between worker and master that keeps every byte the worker sends: what crossed the
 * socket, as an eavesdropper on it would see.
 */
async function tap(t: TestContext, listenPath: string, masterPath: string): Promise<() => Buffer> {
  const chunks: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((worker) => {
    const master = createConnection(masterPath);
    sockets.push(worker, master);
    worker.on("data", (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    worker.pipe(master).pipe(worker);
    worker.on("error", () => master.destroy());
    master.on("error", () => worker.destroy());
  });
  await new Promise<void>((resolve) => server.listen(listenPath, resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return () => Buffer.concat(chunks);
}

function fieldsOf(records: readonly LogRecord[], message: string): Record<string, unknown> {
  const record = records.find((r) => r.message === message);
  assert.ok(record, `no record "${message}"`);
  return { ...record.fields };
}

describe("redact", () => {
  it("replaces the paths in the worker: the secret is not in the socket bytes, the handler gets [Redacted]", async (t) => {
    const dir = tempDir(t);
    const secret = `s3cr3t-${randomBytes(8).toString("hex")}`;
    const masterPath = join(dir, "master.sock");
    const collect = new CollectHandler();
    const master = new MasterLogger(new LoggerConfig({ path: `ipc://${masterPath}` }), [collect]);
    t.after(() => master.shutdown());
    await master.ready();
    const captured = await tap(t, join(dir, "tap.sock"), masterPath);
    const options: LoggerConfigOptions = { path: `ipc://${join(dir, "tap.sock")}`, flushIntervalMs: 20 };
    const child = forkFixture(t, "fields-worker.js", { config: options, scenario: "redact", secret });
    await nextMessage(child, "done");
    const bytes = captured();
    assert.ok(bytes.includes(Buffer.from("[Redacted]")), "the records crossed the tap");
    assert.equal(bytes.indexOf(Buffer.from(secret)), -1, "the secret crossed the socket");

    const records = collect.records.filter((r) => r.name === "redact");
    assert.deepEqual(fieldsOf(records, "login"), {
      user: "bob",
      password: "[Redacted]",
      req: { headers: { authorization: "[Redacted]", accept: "json" } },
      svc: { token: "[Redacted]", name: "s" },
      list: [{ token: "[Redacted]" }],
    });
    assert.deepEqual(fieldsOf(records, "bound"), { password: "[Redacted]" });
    const err = records.find((r) => r.message === "with error")!.err as Error & { password?: unknown };
    assert.equal(err.password, "[Redacted]");
  });

  it("keeps the secret out of the spool file written when no master takes the records", async (t) => {
    const dir = tempDir(t);
    const secret = `sp00l-${randomBytes(8).toString("hex")}`;
    const socketPath = join(dir, "nobody-listens.sock");
    const options: LoggerConfigOptions = { path: `ipc://${socketPath}`, shutdownTimeoutMs: 200 };
    const child = forkFixture(t, "fields-worker.js", { config: options, scenario: "spool", secret });
    await nextMessage(child, "done");
    await exited(child);
    const spoolDir = join(`${socketPath}.d`, "spool");
    const files = readdirSync(spoolDir);
    assert.ok(files.length > 0, "the worker spooled its records");
    for (const file of files) {
      const bytes = readFileSync(join(spoolDir, file));
      assert.ok(bytes.includes(Buffer.from("[Redacted]")), `${file} holds the records`);
      assert.equal(bytes.indexOf(Buffer.from(secret)), -1, `the secret is in ${file}`);
    }
  });

  it("rejects bad paths and options at construction, naming the field", () => {
    const config = new LoggerConfig({ path: "ipc:///tmp/logmux-never-connected.sock" });
    const bad: [unknown, RegExp][] = [
      [{ redact: "password" }, /options\.redact.*array of path strings/],
      [{ redact: ["a..b"] }, /options\.redact.*cannot parse redact path "a\.\.b"/],
      [{ redact: [""] }, /options\.redact.*non-empty path/],
      [{ serializers: { user: 1 } }, /options\.serializers\.user.*function/],
      [{ limits: { depth: 0 } }, /options\.limits\.depth.*integer ≥ 1/],
      [{ limits: { width: 3 } }, /options\.limits\.width.*unknown limit/],
      [{ redcat: [] }, /options\.redcat.*unknown option/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => new WorkerLogger(config, "w", options as never),
        (error: unknown) => error instanceof InvalidConfigError && message.test(error.message),
        JSON.stringify(options),
      );
    }
    assert.deepEqual(parseRedactPath('a["b-c"][0].*[*]', "redact"), ["a", "b-c", "0", "*", "*"]);
    assert.deepEqual(parseRedactPath("*.token", "redact"), ["*", "token"]);
  });
});
