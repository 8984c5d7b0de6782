import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  FileLogHandler,
  LoggerConfig,
  type LoggerConfigOptions,
  LogLevel,
  type LogRecord,
  MasterLogger,
} from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import { forkFixture, nextMessage, tempDir } from "../helpers/processes.js";

interface Rig {
  options: LoggerConfigOptions;
  collect: CollectHandler;
}

async function startMaster(t: TestContext): Promise<Rig> {
  const dir = tempDir(t);
  const options: LoggerConfigOptions = {
    path: `ipc://${join(dir, "log.sock")}`,
    flushIntervalMs: 20,
    baseLevel: LogLevel.TRACE,
  };
  const collect = new CollectHandler();
  const master = new MasterLogger(new LoggerConfig(options), [collect]);
  t.after(() => master.shutdown());
  await master.ready();
  return { options, collect };
}

/** Runs one scenario of the fields worker; resolves with the records its logger delivered. */
async function run(t: TestContext, scenario: string, extra: object = {}): Promise<LogRecord[]> {
  const rig = await startMaster(t);
  const child = forkFixture(t, "fields-worker.js", { config: rig.options, scenario, ...extra });
  await nextMessage(child, "done");
  return rig.collect.records.filter((r) => r.name !== "MASTER");
}

function byMessage(records: readonly LogRecord[], message: string): LogRecord {
  const found = records.find((r) => r.message === message);
  assert.ok(found, `no record "${message}" among: ${records.map((r) => r.message).join(" | ")}`);
  return found;
}

describe("structured log calls across a real worker process", () => {
  it("takes every call shape: fields either side, %-arguments, errors, attachments, children", async (t) => {
    const records = await run(t, "api");
    const [first, second] = records.filter((r) => r.message === "user logged in");
    assert.deepEqual({ ...first!.fields }, { userId: 42, plan: "pro" });
    assert.deepEqual({ ...second!.fields }, { userId: 42, plan: "pro" });
    assert.deepEqual({ ...byMessage(records, "order A-17 filled at 101.25").fields }, {});

    const payment = byMessage(records, "payment failed");
    assert.equal(payment.level, LogLevel.ERROR);
    const err = payment.err!;
    assert.ok(err instanceof Error);
    assert.equal(err.name, "TypeError");
    assert.equal(err.message, "card declined");
    assert.equal((err as { code?: unknown }).code, "E_CARD");
    assert.match(err.stack!, /^TypeError: card declined\n\s+at apiCalls/);
    const cause = err.cause as Error;
    assert.equal(cause.message, "gateway timeout");
    assert.match(cause.stack!, /^Error: gateway timeout\n/);
    assert.equal(payment.fields!.err, err);

    const bare = byMessage(records, "x");
    assert.equal(bare.err?.message, "x", "log.error(err): the message defaults to err.message");
    const retrying = byMessage(records, "retrying");
    assert.equal(retrying.fields!.orderId, 7);
    assert.equal(retrying.err?.name, "RangeError", "an Error inside fields, under any key");

    const raw = byMessage(records, "raw");
    assert.deepEqual([...raw.data!], [0, 1, 2, 255]);
    assert.deepEqual({ ...raw.fields }, {});

    assert.deepEqual({ ...byMessage(records, "slow").fields }, { reqId: "r-1", step: "auth", ms: 812 });
    assert.deepEqual({ ...byMessage(records, "override").fields }, { reqId: "r-2", step: "final" });
    assert.deepEqual({ ...byMessage(records, "call wins").fields }, { reqId: "r-3" });
    assert.equal(byMessage(records, "slow").level, LogLevel.WARNING);

    const debug = byMessage(records, "debug now");
    assert.equal(debug.level, LogLevel.DEBUG);
    assert.deepEqual({ ...debug.fields }, { enabled: true, trace: false });
    assert.equal(byMessage(records, "fatal is critical").level, LogLevel.CRITICAL);

    assert.deepEqual({ ...byMessage(records, "order B-2 at 7").fields }, { side: "buy" });
    assert.deepEqual({ ...byMessage(records, "extra 1 two").fields }, { three: 3 });
    assert.ok(
      byMessage(records, "tea costs $2.50"),
      "a class instance's own toString, as util.format calls it",
    );
    assert.ok(byMessage(records, "%s stays literal"));
    assert.deepEqual({ ...byMessage(records, "pino order with 5 arg").fields }, { orderId: 9 });
  });

  it("carries values exactly, and bounds what cannot or should not be carried", async (t) => {
    const records = await run(t, "values");
    const fields = byMessage(records, "values").fields!;
    assert.equal(fields.int, 42);
    assert.equal(fields.negative, -7);
    assert.equal(fields.float, 101.25);
    assert.equal(fields.tiny, 5e-324);
    assert.equal(fields.big, 12345678901234567890123n);
    assert.equal(fields.negBig, -5n);
    assert.equal(fields.yes, true);
    assert.equal(fields.no, false);
    assert.equal(fields.nothing, null);
    assert.ok(!("skipped" in fields), "undefined is omitted");
    assert.deepEqual(fields.when, new Date(Date.UTC(2026, 11, 2, 1, 2, 3, 456)));
    assert.deepEqual([...(fields.bytes as Uint8Array)], [1, 2, 3]);
    assert.deepEqual(fields.list, [1, "two", [3], { four: 4 }, null, undefined]);
    assert.deepEqual(fields.nested, { a: { b: { c: "deep" } } });
    assert.deepEqual(fields.cycle, { name: "loop", self: "[Circular]" });
    assert.deepEqual(fields.withToJSON, { serialized: true });
    assert.deepEqual(fields.map, { k: 1 });
    assert.deepEqual(fields.set, [1, 2]);
    assert.equal(fields.fn, "[Function: namedFn]");
    assert.equal(fields.sym, "Symbol(tag)");
    assert.equal(fields['weird key="x"'], "v");
    assert.ok(Object.hasOwn(fields, "__proto__"), "__proto__ is an own field, not a prototype");
    assert.equal(Object.getPrototypeOf(fields), Object.prototype);

    assert.deepEqual(byMessage(records, "getter").fields!.thrower, {
      ok: 1,
      bad: "[Unloggable: Error: getter exploded]",
    });

    // Depth 8 by default: the 8th nested object is the marker.
    let deep = byMessage(records, "deep").fields!.deep as Record<string, unknown>;
    let levels = 1;
    while (typeof deep.next === "object") {
      deep = deep.next as Record<string, unknown>;
      levels++;
    }
    assert.equal(deep.next, "[Object]");
    assert.equal(levels, 7);

    const wide = byMessage(records, "wide").fields!.wide as Record<string, unknown>;
    assert.equal(Object.keys(wide).length, 101, "100 entries and the marker");
    assert.equal(wide.k99, 99);
    assert.equal(wide["…"], "[more keys omitted]");
    const items = byMessage(records, "long").fields!.items as unknown[];
    assert.equal(items.length, 101);
    assert.equal(items[100], "[… 900 more items]");

    const huge = byMessage(records, "huge").fields!;
    const text = huge.text as string;
    assert.ok(text.endsWith("…[Truncated]"), "a string past the byte limit is cut, visibly");
    assert.ok(text.length < 64 * 1024 && text.length > 60_000, `cut near 64 KiB, got ${text.length}`);
    assert.ok(!("after" in huge), "nothing is added after the limit");

    assert.deepEqual({ ...byMessage(records, "revoked").fields }, { proxy: {} });
    assert.match(String(byMessage(records, "revoked proxy").fields!.proxy), /^\[Unloggable: TypeError/);
    assert.ok(byMessage(records, "undefined"));
    assert.ok(byMessage(records, "never throws"), "a Proxy whose traps throw still logs the message");
  });

  it("runs serializers in the worker, per logger and per child, with pino's standard ones", async (t) => {
    const records = await run(t, "serializers");
    assert.deepEqual({ ...byMessage(records, "user").fields }, { user: { id: 7 } });
    assert.deepEqual(
      { ...byMessage(records, "order").fields },
      { area: "audit", order: 99, user: { id: 8 } },
    );
    assert.equal(
      byMessage(records, "throwing serializer").fields!.user,
      "[Unloggable: TypeError: Cannot read properties of null (reading 'id')]",
    );
    const request = byMessage(records, "request").fields!;
    const req = request.req as Record<string, unknown>;
    assert.equal(req.method, "GET");
    assert.equal(req.url, "/orders?id=1");
    assert.equal((req.headers as Record<string, unknown>)["x-req"], "yes");
    assert.equal(req.remoteAddress, "127.0.0.1");
    assert.equal(typeof req.remotePort, "number");
    const res = request.res as Record<string, unknown>;
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.headers, { "x-test": "1" });
  });

  it("renders fields in text lines: logfmt, quoting, named fields, appended fields, indented stacks", async (t) => {
    const dir = tempDir(t);
    const options: LoggerConfigOptions = { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 20 };
    const appended = join(dir, "appended.log");
    const placed = join(dir, "placed.log");
    const master = new MasterLogger(new LoggerConfig(options), [
      new FileLogHandler(appended, { format: "%(levelname)s %(name)s - %(message)s" }),
      new FileLogHandler(placed, { format: "%(levelname)s [%(reqId)s] %(message)s | %(fields)s" }),
    ]);
    t.after(() => master.shutdown());
    await master.ready();
    const child = forkFixture(t, "fields-worker.js", { config: options, scenario: "text" });
    await nextMessage(child, "done");
    await master.shutdown();
    const fieldsText =
      'word=pro spaced="two words" empty="" quote="say \\"hi\\"" slash="a\\\\b" newline="line1\\nline2" ' +
      'eq="a=b" n=42 f=1.5 t=true z=null big=9007199254740993 nested.a=1 nested.b.c="x y" ' +
      'list="[1,\\"two\\"]" when=2026-01-02T03:04:05.006Z bad_key=1';
    const lines = readFileSync(appended, "utf8").split("\n");
    assert.equal(lines[0], "INFO text - plain");
    assert.equal(lines[1], `INFO text - quoting ${fieldsText}`);
    assert.equal(lines[2], "INFO text - named reqId=r-9 step=auth");
    assert.equal(lines[3], "INFO text - order A-1 at 3 qty=2");
    assert.equal(lines[4], 'ERROR text - failed err="Error: outer" orderId=5');
    assert.match(lines[5]!, /^ {4}Error: outer$/);
    assert.match(lines[6]!, /^ {8}at textCalls \(.*fields-worker\.js:\d+:\d+\)$/);
    const code = lines.indexOf("    code: E_X");
    const cause = lines.indexOf("    Caused by: TypeError: inner");
    assert.ok(code > 6 && cause > code, "the code, then the cause, after the stack");
    assert.match(lines[cause + 1]!, /^ {8}at textCalls/);

    const placedLines = readFileSync(placed, "utf8").split("\n");
    assert.equal(placedLines[0], "INFO [-] plain | ");
    assert.equal(placedLines[1], `INFO [-] quoting | ${fieldsText}`);
    assert.equal(placedLines[2], "INFO [r-9] named | step=auth", "a named field is not repeated");
    assert.equal(placedLines[4], 'ERROR [-] failed | err="Error: outer" orderId=5');
    assert.match(placedLines[5]!, /^ {4}Error: outer$/);
  });

  it("interpolates %-arguments exactly as util.format does (property test, 400 cases)", async (t) => {
    const rig = await startMaster(t);
    const child = forkFixture(t, "fields-worker.js", {
      config: rig.options,
      scenario: "property",
      seed: 20261202,
      runs: 400,
    });
    const { expected } = await nextMessage<{ expected: string[] }>(child, "expected");
    await nextMessage(child, "done");
    const got = rig.collect.records.filter((r) => r.name === "property").map((r) => r.message);
    assert.ok(expected.length > 300, `only ${expected.length} comparable cases`);
    assert.equal(got.length, expected.length);
    for (let i = 0; i < expected.length; i++) assert.equal(got[i], expected[i], `case ${i}`);
  });
});
