import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  LoggerConfig,
  type LoggerConfigOptions,
  LogLevel,
  type LogRecord,
  MasterLogger,
} from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import { get, hasKeyDeep } from "../helpers/http-client.js";
import { forkFixture, nextMessage, tempDir } from "../helpers/processes.js";

/** What an object encoded whole (a request, reply, socket) would bring along. */
const INTERNALS = new Set([
  "socket",
  "_events",
  "rawHeaders",
  "raw",
  "server",
  "_handle",
  "parser",
  "connection",
]);

describe("fastify 5 with a WorkerLogger as loggerInstance", () => {
  it("delivers fastify's request logs with reqId, method, url, status and response time", async (t) => {
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
    const child = forkFixture(t, "fastify-worker.js", { config: options });
    const { port } = await nextMessage<{ port: number }>(child, "listening");

    const order = await get(port, "/orders/A-17");
    assert.equal(order.status, 200);
    assert.deepEqual(JSON.parse(order.body), { id: "A-17" });
    assert.equal((await get(port, "/health")).body, "ok");
    assert.equal((await get(port, "/verbose")).status, 200);
    assert.equal((await get(port, "/quiet")).status, 200);
    assert.equal((await get(port, "/boom")).status, 500);
    assert.equal((await get(port, "/nowhere")).status, 404);
    const done = nextMessage(child, "done");
    child.send({ type: "stop" });
    await done;

    const records = collect.fromWorkers();
    const fieldsOf = (r: LogRecord): Record<string, unknown> => r.fields ?? {};
    const forUrl = (url: string, message: string): LogRecord[] =>
      records.filter((r) => {
        const reqId = fieldsOf(r).reqId;
        return (
          r.message === message &&
          records.some(
            (o) =>
              fieldsOf(o).reqId === reqId && (fieldsOf(o).req as { url?: string } | undefined)?.url === url,
          )
        );
      });

    assert.ok(
      records.some((r) => r.message.startsWith("Server listening at http://127.0.0.1:")),
      "fastify's own start-up log",
    );
    assert.ok(records.some((r) => r.message === "app created"));

    const [incoming] = forUrl("/orders/A-17", "incoming request");
    assert.ok(incoming, records.map((r) => r.message).join(" | "));
    const reqId = fieldsOf(incoming).reqId;
    assert.equal(typeof reqId, "string");
    assert.equal(incoming.level, LogLevel.INFO);
    const req = fieldsOf(incoming).req as Record<string, unknown>;
    assert.equal(req.method, "GET");
    assert.equal(req.url, "/orders/A-17");
    assert.equal(req.remoteAddress, "127.0.0.1");
    assert.equal(typeof req.remotePort, "number");

    const completed = records.find((r) => r.message === "request completed" && fieldsOf(r).reqId === reqId);
    assert.ok(completed, "the completion record carries the same reqId");
    assert.deepEqual(fieldsOf(completed).res, { statusCode: 200 });
    const responseTime = fieldsOf(completed).responseTime;
    assert.ok(
      typeof responseTime === "number" && responseTime >= 0 && responseTime < 10_000,
      String(responseTime),
    );

    const handled = records.find((r) => r.message === "loading order");
    assert.deepEqual({ ...handled?.fields }, { reqId, step: "load" }, "request.log is a child with reqId");

    // A route's logLevel reaches request.log as the child's level option.
    assert.ok(!records.some((r) => r.message === "health check"), "logLevel: silent logs nothing");
    assert.equal(forUrl("/health", "incoming request").length, 0);
    assert.ok(records.some((r) => r.message === "debug detail" && r.level === LogLevel.DEBUG));
    assert.ok(!records.some((r) => r.message === "not at info"), "the app's level still holds elsewhere");

    const failed = records.find((r) => r.message === "kaboom");
    assert.ok(failed, "fastify's default error handler logs the error");
    assert.equal(failed.level, LogLevel.ERROR);
    assert.ok(failed.err instanceof Error, "the Error arrives as an Error, not pino's plain rendering");
    assert.equal(failed.err.message, "kaboom");
    assert.equal((failed.err as { code?: unknown }).code, "E_BOOM");
    assert.match(failed.err.stack ?? "", /^Error: kaboom\n\s+at /);
    assert.deepEqual(fieldsOf(failed).res, { statusCode: 500 });
    const boomDone = records.find(
      (r) => r.message === "request completed" && fieldsOf(r).reqId === fieldsOf(failed).reqId,
    );
    assert.deepEqual(fieldsOf(boomDone!).res, { statusCode: 500 });
    assert.ok(records.some((r) => r.message === "Route GET:/nowhere not found"));

    for (const r of records) {
      assert.ok(!hasKeyDeep(r.fields, INTERNALS), `"${r.message}" has an object encoded whole`);
    }
  });
});
