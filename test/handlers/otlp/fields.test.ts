// Record fields as OTLP attributes: typed AnyValues, exception.* for the record's error, and the
// key-clash rule, checked by decoding with the official opentelemetry-proto schema (./proto.ts).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { OtlpJsonEncoder } from "../../../src/handlers/otlp/encoder.js";
import { OtlpLogHandler } from "../../../src/handlers/otlp/handler.js";
import { LoggerConfig, LogLevel, MasterLogger } from "../../../src/index.js";
import type { LogRecord } from "../../../src/record.js";
import { exited, forkFixture, nextMessage, tempDir } from "../../helpers/processes.js";
import { decodedRecords, decodeRequest, type Json } from "./proto.js";

const BASE: LogRecord = {
  timestampNs: 1_767_323_045_123_456_789n,
  level: LogLevel.INFO,
  name: "w",
  message: "m",
  pid: 4242,
};

const DEFAULT_ATTRIBUTES = [
  { key: "logmux.worker.name", value: { stringValue: "w" } },
  { key: "process.pid", value: { intValue: "4242" } },
];

/** The record's attributes as a receiver decodes them. */
function attributesOf(record: LogRecord): Json[] {
  const encoder = new OtlpJsonEncoder({ "service.name": "svc" });
  const [decoded] = decodedRecords(encoder.request([encoder.record(record, 1n)]));
  return (decoded?.attributes as Json[]) ?? [];
}

/** The AnyValue one field becomes. */
function anyValueOf(value: unknown): unknown {
  const attributes = attributesOf({ ...BASE, fields: { x: value } });
  assert.equal(attributes.length, 3, JSON.stringify(attributes));
  assert.equal(attributes[2]!.key, "x");
  return attributes[2]!.value;
}

describe("fields as OTLP attributes (encoder)", () => {
  test("the decoder is strict: it rejects what a Collector would", () => {
    const good =
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{}}]}]}]}]}';
    assert.doesNotThrow(() => decodeRequest(good));
    for (const bad of [
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributez":[]}]}]}]}',
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{"intValue":"9223372036854775808"}}]}]}]}]}',
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{"intValue":"1","stringValue":"1"}}]}]}]}]}',
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{"boolValue":"true"}}]}]}]}]}',
    ]) {
      assert.throws(() => decodeRequest(bad), Error, bad);
    }
  });

  test("each value type becomes its AnyValue", () => {
    const cases: Array<[unknown, unknown]> = [
      ["text", { stringValue: "text" }],
      ["", { stringValue: "" }],
      [42, { intValue: "42" }],
      [-7, { intValue: "-7" }],
      [0.5, { doubleValue: 0.5 }],
      [-0, { doubleValue: -0 }],
      [Number.NaN, { doubleValue: "NaN" }],
      [Number.POSITIVE_INFINITY, { doubleValue: "Infinity" }],
      [Number.NEGATIVE_INFINITY, { doubleValue: "-Infinity" }],
      [Number.MAX_SAFE_INTEGER, { intValue: "9007199254740991" }],
      // The largest double below 2^63 is an int64; 2^63 itself is not.
      [2 ** 63 - 1024, { intValue: "9223372036854774784" }],
      [2 ** 63, { doubleValue: 2 ** 63 }],
      [-(2 ** 63), { intValue: "-9223372036854775808" }],
      [1e21, { doubleValue: 1e21 }],
      [2n ** 63n - 1n, { intValue: "9223372036854775807" }],
      [2n ** 63n, { stringValue: "9223372036854775808" }],
      [-(2n ** 63n), { intValue: "-9223372036854775808" }],
      [-(2n ** 63n) - 1n, { stringValue: "-9223372036854775809" }],
      [true, { boolValue: true }],
      [false, { boolValue: false }],
      [null, {}],
      [new Date(Date.UTC(2026, 2, 1, 12, 0, 0, 5)), { stringValue: "2026-03-01T12:00:00.005Z" }],
      [new Date(Number.NaN), { stringValue: "Invalid Date" }],
      [new Uint8Array([0, 255, 16]), { bytesValue: "AP8Q" }],
      [Buffer.from("hi"), { bytesValue: "aGk=" }],
      [[], { arrayValue: {} }],
      [{}, { kvlistValue: {} }],
      ["[Circular]", { stringValue: "[Circular]" }],
      [
        [1, "a", [true], { k: null }],
        {
          arrayValue: {
            values: [
              { intValue: "1" },
              { stringValue: "a" },
              { arrayValue: { values: [{ boolValue: true }] } },
              { kvlistValue: { values: [{ key: "k", value: {} }] } },
            ],
          },
        },
      ],
      [
        { a: { b: 1.5 }, skipped: undefined },
        {
          kvlistValue: {
            values: [
              { key: "a", value: { kvlistValue: { values: [{ key: "b", value: { doubleValue: 1.5 } }] } } },
            ],
          },
        },
      ],
    ];
    for (const [input, expected] of cases) assert.deepEqual(anyValueOf(input), expected, String(input));
  });

  test("an Error that is not the record's error is a kvlist of type, message, stack, extras, cause", () => {
    const inner = Object.assign(new Error("inner"), { errno: -2 });
    inner.stack = "Error: inner\n    at here";
    const outer = new SyntaxError("outer", { cause: inner });
    outer.stack = "SyntaxError: outer";
    const attributes = attributesOf({ ...BASE, fields: { err: "not an error", list: [outer] } });
    assert.deepEqual(attributes.slice(2), [
      { key: "err", value: { stringValue: "not an error" } },
      {
        key: "list",
        value: {
          arrayValue: {
            values: [
              {
                kvlistValue: {
                  values: [
                    { key: "type", value: { stringValue: "SyntaxError" } },
                    { key: "message", value: { stringValue: "outer" } },
                    { key: "stack", value: { stringValue: "SyntaxError: outer" } },
                    {
                      key: "cause",
                      value: {
                        kvlistValue: {
                          values: [
                            { key: "type", value: { stringValue: "Error" } },
                            { key: "message", value: { stringValue: "inner" } },
                            { key: "stack", value: { stringValue: "Error: inner\n    at here" } },
                            { key: "errno", value: { intValue: "-2" } },
                          ],
                        },
                      },
                    },
                  ],
                },
              },
            ],
          },
        },
      },
    ]);
  });

  test("the record's error: exception.* with the cause chain, extras under its own key", () => {
    const root = "a plain string cause";
    const middle = new Error("middle", { cause: root });
    middle.stack = "Error: middle\n    at m";
    const err = Object.assign(new TypeError("top", { cause: middle }), { code: "E_TOP", status: 502 });
    err.stack = "TypeError: top\n    at t";
    const attributes = attributesOf({ ...BASE, fields: { first: 1, failure: err }, err });
    assert.deepEqual(attributes, [
      ...DEFAULT_ATTRIBUTES,
      { key: "exception.type", value: { stringValue: "TypeError" } },
      { key: "exception.message", value: { stringValue: "top" } },
      {
        key: "exception.stacktrace",
        value: {
          stringValue:
            "TypeError: top\n    at t\nCaused by: Error: middle\n    at m\nCaused by: a plain string cause",
        },
      },
      { key: "first", value: { intValue: "1" } },
      {
        key: "failure",
        value: {
          kvlistValue: {
            values: [
              { key: "code", value: { stringValue: "E_TOP" } },
              { key: "status", value: { intValue: "502" } },
            ],
          },
        },
      },
    ]);
    // Without extras, the error is exception.* only; an error with no stack has no stacktrace.
    const bare = new RangeError("no stack");
    bare.stack = "";
    assert.deepEqual(attributesOf({ ...BASE, fields: { err: bare } }), [
      ...DEFAULT_ATTRIBUTES,
      { key: "exception.type", value: { stringValue: "RangeError" } },
      { key: "exception.message", value: { stringValue: "no stack" } },
    ]);
    // A hand-built record whose err is not among its fields: the extras go under "err".
    const loose = Object.assign(new Error("loose"), { code: 7 });
    loose.stack = "Error: loose";
    assert.deepEqual(attributesOf({ ...BASE, err: loose }).slice(2), [
      { key: "exception.type", value: { stringValue: "Error" } },
      { key: "exception.message", value: { stringValue: "loose" } },
      { key: "exception.stacktrace", value: { stringValue: "Error: loose" } },
      { key: "err", value: { kvlistValue: { values: [{ key: "code", value: { intValue: "7" } }] } } },
    ]);
  });

  test("a field whose key the encoder sets itself is sent as fields.<key>, never twice", () => {
    const attributes = attributesOf({
      ...BASE,
      data: new Uint8Array([1]),
      fields: {
        "process.pid": "mine",
        "fields.process.pid": "taken",
        "logmux.data": 1,
        "logmux.worker.name": 2,
        "exception.type": 3,
      },
    });
    assert.deepEqual(
      attributes.map((a) => [a.key, a.value]),
      [
        ["logmux.worker.name", { stringValue: "w" }],
        ["process.pid", { intValue: "4242" }],
        ["logmux.data", { bytesValue: "AQ==" }],
        ["fields.fields.process.pid", { stringValue: "mine" }],
        ["fields.process.pid", { stringValue: "taken" }],
        ["fields.logmux.data", { intValue: "1" }],
        ["fields.logmux.worker.name", { intValue: "2" }],
        ["fields.exception.type", { intValue: "3" }],
      ],
    );
  });

  test("records without fields keep the three attributes; nesting is cut at 20 levels, cycles included", () => {
    assert.deepEqual(attributesOf(BASE), DEFAULT_ATTRIBUTES);
    assert.deepEqual(attributesOf({ ...BASE, fields: {} }), DEFAULT_ATTRIBUTES);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    let value = anyValueOf(loop) as Json;
    let depth = 0;
    while ((value.kvlistValue as Json | undefined) !== undefined) {
      value = ((value.kvlistValue as { values: Json[] }).values[0]!.value as Json) ?? {};
      depth++;
    }
    assert.deepEqual({ depth, value }, { depth: 20, value: { stringValue: "[Object]" } });
  });
});

/** A loopback OTLP/HTTP receiver that decodes every request with the official schema. */
async function receiver(t: TestContext): Promise<{ url: string; records: Json[]; errors: string[] }> {
  const records: Json[] = [];
  const errors: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        records.push(...decodedRecords(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (error) {
        errors.push(String(error));
        res
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ message: String(error) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`, records, errors };
}

describe("fields from a real worker reach an OTLP receiver typed", () => {
  test("scalars, nesting, arrays, int vs double, bigint, the error as exception.*", async (t) => {
    const server = await receiver(t);
    const dir = tempDir(t);
    const options = { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 50 };
    const handler = new OtlpLogHandler({ url: server.url, maxDelayMs: 20, protocol: "http/json" });
    const master = new MasterLogger(new LoggerConfig(options), [handler]);
    t.after(() => master.shutdown());
    await master.ready();
    const child = forkFixture(t, "attributes-worker.js", { config: options, name: "fields" });
    const stacks = await nextMessage<{ err: string; cause: string; retry: string }>(child, "stacks");
    await nextMessage(child, "done");
    await exited(child);
    await master.shutdown();
    assert.deepEqual(server.errors, []);
    assert.equal(handler.stats.failed, 0);

    const mine = server.records.filter((r) =>
      (r.attributes as Json[]).some(
        (a) => a.key === "logmux.worker.name" && (a.value as Json).stringValue === "fields",
      ),
    );
    assert.deepEqual(
      mine.map((r) => [r.body, r.severityNumber]),
      [
        [{ stringValue: "typed fields" }, 9],
        [{ stringValue: "failed" }, 17],
        [{ stringValue: "plain" }, 9],
      ],
    );
    const base = [
      { key: "logmux.worker.name", value: { stringValue: "fields" } },
      { key: "process.pid", value: { intValue: String(child.pid) } },
    ];
    const kv = (key: string, value: unknown) => ({ key, value });
    const s = (stringValue: string) => ({ stringValue });
    assert.deepEqual(mine[0]!.attributes, [
      ...base,
      kv("reqId", s("r-1")),
      // The call's userId replaced the child's binding.
      kv("userId", { intValue: "42" }),
      kv("ratio", { doubleValue: 0.25 }),
      kv("pow40", { intValue: "1099511627776" }),
      kv("huge", { doubleValue: 2 ** 64 }),
      kv("nan", { doubleValue: "NaN" }),
      kv("inf", { doubleValue: "-Infinity" }),
      kv("small", { intValue: "-5" }),
      kv("big", s("12345678901234567890")),
      kv("ok", { boolValue: true }),
      kv("off", { boolValue: false }),
      kv("nothing", {}),
      kv("empty", s("")),
      kv("when", s("2026-01-02T03:04:05.678Z")),
      kv("raw", { bytesValue: "AAEC/w==" }),
      kv("tags", {
        arrayValue: { values: [s("a"), { intValue: "1" }, { doubleValue: 2.5 }, { boolValue: false }, {}] },
      }),
      kv("req", {
        kvlistValue: {
          values: [
            kv("method", s("GET")),
            kv("headers", { kvlistValue: { values: [kv("host", s("example.com"))] } }),
            kv("none", { kvlistValue: {} }),
          ],
        },
      }),
      kv("fields.process.pid", s("clash")),
      kv("quote", s('say "hi" \\ [x] done]')),
      kv('bad key=]"é', s("v")),
      kv("k123456789012345678901234567890XYZ", s("long key")),
    ]);
    assert.deepEqual(mine[1]!.attributes, [
      ...base,
      kv("exception.type", s("TypeError")),
      kv("exception.message", s("bad input")),
      kv("exception.stacktrace", s(`${stacks.err}\nCaused by: ${stacks.cause}`)),
      kv("err", { kvlistValue: { values: [kv("code", s("E_BAD"))] } }),
      kv("retry", {
        kvlistValue: {
          values: [kv("type", s("RangeError")), kv("message", s("too far")), kv("stack", s(stacks.retry))],
        },
      }),
      kv("attempt", { intValue: "3" }),
    ]);
    assert.deepEqual(mine[2]!.attributes, base);
  });
});
