import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  LoggerConfig,
  type LoggerConfigOptions,
  LogLevel,
  type LogRecord,
  MasterLogger,
} from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import { abandon, get, hasKeyDeep } from "../helpers/http-client.js";
import { forkFixture, nextMessage, tempDir } from "../helpers/processes.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const INTERNALS = new Set(["socket", "_events", "rawHeaders", "server", "_handle", "parser", "connection"]);

const fieldsOf = (r: LogRecord | undefined): Record<string, unknown> => r?.fields ?? {};

async function serve(t: TestContext, scenario: "express" | "node") {
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
  const child = forkFixture(t, "http-worker.js", { config: options, scenario });
  const { port } = await nextMessage<{ port: number }>(child, "listening");
  const stop = async (): Promise<LogRecord[]> => {
    const done = nextMessage(child, "done");
    child.send({ type: "stop" });
    await done;
    return collect.fromWorkers();
  };
  return { port, collect, stop };
}

function completions(records: readonly LogRecord[], url: string): LogRecord[] {
  return records.filter(
    (r) => r.message.startsWith("request ") && (fieldsOf(r).req as { url?: string } | undefined)?.url === url,
  );
}

for (const scenario of ["express", "node"] as const) {
  describe(`httpLogger with ${scenario === "express" ? "express 5" : "a plain node:http server"}`, () => {
    it("logs one record per request at completion, with req.log a child carrying the request id", async (t) => {
      const { port, collect, stop } = await serve(t, scenario);
      const given = await get(port, "/orders/A-17", { "x-request-id": "edge-42" });
      assert.equal(given.status, 200);
      assert.deepEqual(JSON.parse(given.body), { id: "A-17" });
      assert.equal(given.headers["x-request-id"], "edge-42", "responseIdHeader echoes the id");
      const first = await get(port, "/orders/B-1");
      const second = await get(port, "/orders/B-1");
      assert.equal((await get(port, "/missing")).status, 404);
      assert.equal((await get(port, "/boom")).status, 500);
      assert.equal((await get(port, "/health")).body, "ok");
      const hanging = collect.until(
        (rs) => rs.some((r) => r.message === "hanging"),
        10_000,
        "the hanging request",
      );
      await abandon(port, "/hang", hanging);
      await collect.until((rs) => rs.some((r) => r.message === "request aborted"), 10_000, "request aborted");
      const records = await stop();

      const [edge, ...moreEdge] = completions(records, "/orders/A-17");
      assert.equal(moreEdge.length, 0, "one record per request");
      assert.equal(edge!.message, "request completed");
      assert.equal(edge!.level, LogLevel.INFO);
      const fields = fieldsOf(edge);
      assert.equal(fields.reqId, "edge-42", "the id from x-request-id");
      const req = fields.req as Record<string, unknown>;
      assert.equal(req.method, "GET");
      assert.equal(req.url, "/orders/A-17");
      assert.equal(req.remoteAddress, "127.0.0.1");
      assert.equal(typeof req.remotePort, "number");
      assert.deepEqual(fields.res, { statusCode: 200 });
      assert.ok(
        typeof fields.responseTime === "number" && fields.responseTime >= 0 && fields.responseTime < 10_000,
      );
      assert.deepEqual(
        { ...records.find((r) => r.message === "loading order" && fieldsOf(r).reqId === "edge-42")?.fields },
        { reqId: "edge-42", id: "A-17" },
        "req.log's records carry the request id",
      );

      const generated = completions(records, "/orders/B-1").map((r) => fieldsOf(r).reqId as string);
      assert.equal(generated.length, 2);
      for (const id of generated) assert.match(id, UUID);
      assert.notEqual(generated[0], generated[1]);
      assert.deepEqual(
        [first.headers["x-request-id"], second.headers["x-request-id"]].sort(),
        [...generated].sort(),
        "the echoed ids are the logged ones",
      );

      const [missing] = completions(records, "/missing");
      assert.equal(missing!.level, LogLevel.WARNING);
      assert.deepEqual(fieldsOf(missing).res, { statusCode: 404 });

      const [boom] = completions(records, "/boom");
      assert.equal(boom!.message, "request errored");
      assert.equal(boom!.level, LogLevel.ERROR);
      assert.deepEqual(fieldsOf(boom).res, { statusCode: 500 });
      assert.ok(boom!.err instanceof Error);
      assert.equal(boom!.err.message, "kaboom");
      assert.equal((boom!.err as { code?: unknown }).code, "E_BOOM");

      assert.equal(completions(records, "/health").length, 0, "ignore() skips the record");

      const [hung] = completions(records, "/hang");
      assert.equal(hung!.message, "request aborted");
      assert.equal(hung!.level, LogLevel.ERROR);
      assert.equal(
        fieldsOf(hung).reqId,
        fieldsOf(records.find((r) => r.message === "hanging")).reqId,
        "the aborted record is the hanging request's",
      );

      for (const r of records) assert.ok(!hasKeyDeep(r.fields, INTERNALS), `"${r.message}" has internals`);
    });
  });
}

describe("the encoder and http objects", () => {
  it("writes a request, a response and a socket as a summary, with no serializer", async (t) => {
    const { port, stop } = await serve(t, "node");
    assert.equal((await get(port, "/raw", { authorization: "Bearer s3cret" })).body, "raw");
    const records = await stop();
    const raw = records.find((r) => r.message === "raw objects");
    assert.ok(raw);
    const fields = fieldsOf(raw);
    const req = fields.req as Record<string, unknown>;
    assert.deepEqual(Object.keys(req).sort(), ["id", "method", "remoteAddress", "remotePort", "url"]);
    assert.match(req.id as string, UUID, "req.id as httpLogger set it");
    assert.equal(req.url, "/raw");
    assert.deepEqual(fields.res, { statusCode: 200 });
    const socket = (fields.nested as { socket: Record<string, unknown> }).socket;
    assert.equal(socket.remoteAddress, "127.0.0.1");
    assert.equal(typeof socket.remotePort, "number");
    assert.ok(!JSON.stringify(fields, (_k, v) => (typeof v === "bigint" ? String(v) : v)).includes("s3cret"));
  });
});
