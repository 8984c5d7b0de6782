// OTLP/HTTP binary protobuf: what the protobuf encoder writes, decoded with the official
// opentelemetry-proto schema (./proto.ts, protobufjs), is the same request the JSON encoder's
// body decodes to, for every kind of value, a seeded random sample, and records of a real worker.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { OtlpJsonEncoder } from "../../../src/handlers/otlp/encoder.js";
import { OtlpProtoEncoder } from "../../../src/handlers/otlp/encoder-proto.js";
import { OtlpLogHandler } from "../../../src/handlers/otlp/handler.js";
import { LoggerConfig, LogLevel, MasterLogger } from "../../../src/index.js";
import type { LogRecord } from "../../../src/record.js";
import { exited, forkFixture, nextMessage, tempDir } from "../../helpers/processes.js";
import { decodeBinaryRequest, decodedRecordsOf, decodeRequest, type Json } from "./proto.js";

const BASE: LogRecord = {
  timestampNs: 1_767_323_045_123_456_789n,
  level: LogLevel.INFO,
  name: "w",
  message: "m",
  pid: 4242,
};

const RESOURCE = { "service.name": "svc", "host.name": "h1", "deploy.n": 3, ratio: 0.5, flag: true };

/** Both encodings of the same records, each decoded with the official schema. */
function bothWays(records: readonly LogRecord[], observedNs = 1n): { json: Json; proto: Json } {
  const json = new OtlpJsonEncoder(RESOURCE);
  const proto = new OtlpProtoEncoder(RESOURCE);
  return {
    json: decodeRequest(json.request(records.map((r) => json.record(r, observedNs)))),
    proto: decodeBinaryRequest(proto.body(records.map((r) => proto.record(r, observedNs)))),
  };
}

function assertSame(records: readonly LogRecord[], what: string): Json {
  const { json, proto } = bothWays(records);
  assert.deepEqual(proto, json, what);
  return proto;
}

/** A seeded generator (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whole code points (an emoji is two UTF-16 units), quotes, a backslash and a newline. */
const CHARS = ["a", "é", "日", "😀", '"', "\\", "\n"];

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 10 : 13));
  const text = (n: number) =>
    Array.from({ length: n }, () => CHARS[Math.floor(next() * CHARS.length)]).join("");
  switch (pick) {
    case 0:
      return text(Math.floor(next() * 8));
    case 1:
      // Long enough for two- and three-byte lengths.
      return text(40 + Math.floor(next() * 6000));
    case 2:
      return Math.floor((next() - 0.5) * 2 ** (next() * 70));
    case 3:
      return (next() - 0.5) * 10 ** Math.floor(next() * 30);
    case 4:
      return [Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 63, -(2 ** 63), 2 ** 64][Math.floor(next() * 6)];
    case 5:
      return BigInt(Math.floor((next() - 0.5) * 2 ** 53)) * BigInt(Math.floor(next() * 2 ** 20));
    case 6:
      return next() < 0.5;
    case 7:
      return next() < 0.5 ? null : new Date(Math.floor(next() * 2e12));
    case 8:
      return new Uint8Array(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256)));
    case 9: {
      const error = Object.assign(new Error(text(5)), { code: text(3) });
      if (next() < 0.5) (error as { cause?: unknown }).cause = randomValue(next, depth + 1);
      return error;
    }
    case 10:
    case 11:
      return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 6); i > 0; i--) object[text(4)] = randomValue(next, depth + 1);
      return object;
    }
  }
}

describe("OTLP protobuf encoding matches the JSON encoding, decoded with the official schema", () => {
  test("every kind of value, the record's error, clashes, the resource and the scope", () => {
    const values: unknown[] = [
      "text",
      "",
      "é日本😀".repeat(50),
      42,
      -7,
      0,
      0.5,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.MAX_SAFE_INTEGER,
      2 ** 63 - 1024,
      2 ** 63,
      -(2 ** 63),
      1e21,
      2n ** 63n - 1n,
      2n ** 63n,
      -(2n ** 63n),
      -(2n ** 63n) - 1n,
      -1n,
      true,
      false,
      null,
      new Date(Date.UTC(2026, 2, 1, 12, 0, 0, 5)),
      new Date(Number.NaN),
      new Uint8Array([0, 255, 16]),
      new Uint8Array(0),
      Buffer.from("hi"),
      [],
      {},
      [1, "a", [true], { k: null }, undefined],
      { a: { b: 1.5 }, skipped: undefined, big: "x".repeat(200) },
      Object.assign(new SyntaxError("outer", { cause: new Error("inner") }), { errno: -2 }),
    ];
    for (const value of values) assertSame([{ ...BASE, fields: { x: value } }], String(value));

    const err = Object.assign(new TypeError("top", { cause: new Error("middle", { cause: "root" }) }), {
      code: "E_TOP",
    });
    const bare = new RangeError("no stack");
    bare.stack = "";
    const loose = Object.assign(new Error("loose"), { code: 7 });
    const decoded = assertSame(
      [
        BASE,
        { ...BASE, fields: {} },
        { ...BASE, level: LogLevel.ERROR, fields: { first: 1, failure: err }, err },
        { ...BASE, fields: { err: bare } },
        { ...BASE, err: loose },
        { ...BASE, err: loose, fields: { err: "taken" } },
        {
          ...BASE,
          data: new Uint8Array([1, 2]),
          fields: { "process.pid": "mine", "fields.process.pid": "taken", "logmux.data": 1 },
        },
        { ...BASE, level: 99 as LogLevel, message: "" },
      ],
      "records",
    );
    const [resourceLogs] = decoded.resourceLogs as Json[];
    assert.deepEqual((resourceLogs!.scopeLogs as Json[])[0]!.scope, { name: "logmux", version: "0.1.0" });
    assert.deepEqual((resourceLogs!.resource as Json).attributes, [
      { key: "service.name", value: { stringValue: "svc" } },
      { key: "host.name", value: { stringValue: "h1" } },
      { key: "deploy.n", value: { intValue: "3" } },
      { key: "ratio", value: { doubleValue: 0.5 } },
      { key: "flag", value: { boolValue: true } },
    ]);
    // Not vacuous: the decoded protobuf holds typed values where JSON had them.
    const records = (resourceLogs!.scopeLogs as Json[])[0]!.logRecords as Json[];
    assert.equal(records.length, 8);
    assert.deepEqual(records[2]!.severityNumber, 17);
    assert.deepEqual((records[2]!.attributes as Json[]).slice(2, 4), [
      { key: "exception.type", value: { stringValue: "TypeError" } },
      { key: "exception.message", value: { stringValue: "top" } },
    ]);
  });

  test("a seeded random sample of nested values (cycles and the depth cut included)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < 6; i++) fields[`k${i}`] = randomValue(next, 0);
      if (seed % 10 === 0) {
        const loop: Record<string, unknown> = { n: 1 };
        loop.self = loop;
        fields.loop = loop;
      }
      assertSame([{ ...BASE, fields, message: `seed ${seed}` }], `seed ${seed}`);
    }
  });

  test("a record of megabytes, and records after it from the same (shrunk) writer", () => {
    const huge = {
      ...BASE,
      message: "é日".repeat(300_000),
      fields: { blob: new Uint8Array(1 << 20).fill(7) },
    };
    assertSame([huge, { ...BASE, fields: { after: "small" } }, huge, BASE], "huge");
  });

  test("a batch large enough for multi-byte request lengths", () => {
    const records = Array.from({ length: 300 }, (_, i) => ({
      ...BASE,
      timestampNs: BASE.timestampNs + BigInt(i),
      message: `record ${i} ${"x".repeat(i * 7)}`,
      fields: { i, tags: ["a", i / 3] },
    }));
    const decoded = assertSame(records, "batch");
    const logRecords = ((decoded.resourceLogs as Json[])[0]!.scopeLogs as Json[])[0]!.logRecords as Json[];
    assert.deepEqual(
      logRecords.map((r) => r.timeUnixNano),
      records.map((r) => String(r.timestampNs)),
    );
  });
});

interface Request {
  headers: IncomingHttpHeaders;
  records: Json[];
}

/** A loopback receiver that decodes each request by its Content-Type with the official schema. */
async function receiver(t: TestContext): Promise<{ url: string; requests: Request[]; errors: string[] }> {
  const requests: Request[] = [];
  const errors: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        requests.push({
          headers: req.headers,
          records: decodedRecordsOf(req.headers["content-type"], Buffer.concat(chunks)),
        });
        res.writeHead(200, { "content-type": req.headers["content-type"] }).end();
      } catch (error) {
        errors.push(String(error));
        res.writeHead(400, { "content-type": "text/plain" }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`, requests, errors };
}

describe("records of a real worker, sent as protobuf and as JSON", () => {
  test("decode to the same log records: typed attributes, kvlist, array, bytes, bigint, exception.*", async (t) => {
    const server = await receiver(t);
    const dir = tempDir(t);
    const options = { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 50 };
    const asProto = new OtlpLogHandler({ url: `${server.url}?as=proto`, maxDelayMs: 20 });
    const asJson = new OtlpLogHandler({
      url: `${server.url}?as=json`,
      maxDelayMs: 20,
      protocol: "http/json",
    });
    const master = new MasterLogger(new LoggerConfig(options), [asProto, asJson]);
    t.after(() => master.shutdown());
    await master.ready();
    const child = forkFixture(t, "attributes-worker.js", { config: options, name: "fields" });
    await nextMessage(child, "done");
    await exited(child);
    await master.shutdown();
    assert.deepEqual(server.errors, []);
    assert.deepEqual([asProto.stats.failed, asJson.stats.failed], [0, 0]);

    const mine = (type: string) =>
      server.requests
        .filter((r) => r.headers["content-type"] === type)
        .flatMap((r) => r.records)
        .filter((r) =>
          (r.attributes as Json[]).some(
            (a) => a.key === "logmux.worker.name" && (a.value as Json).stringValue === "fields",
          ),
        )
        // Each handler stamps its own observed time.
        .map(({ observedTimeUnixNano, ...rest }) => {
          assert.match(String(observedTimeUnixNano), /^\d{19}$/);
          return rest;
        });
    const proto = mine("application/x-protobuf");
    const json = mine("application/json");
    assert.equal(proto.length, 3);
    assert.deepEqual(proto, json);
    // What the shared records hold, so that equality is not two empty lists agreeing.
    const attrs = new Map((proto[0]!.attributes as Json[]).map((a) => [a.key, a.value]));
    assert.deepEqual(attrs.get("userId"), { intValue: "42" });
    assert.deepEqual(attrs.get("huge"), { doubleValue: 2 ** 64 });
    assert.deepEqual(attrs.get("small"), { intValue: "-5" });
    assert.deepEqual(attrs.get("big"), { stringValue: "12345678901234567890" });
    assert.deepEqual(attrs.get("raw"), { bytesValue: "AAEC/w==" });
    assert.deepEqual(attrs.get("nan"), { doubleValue: "NaN" });
    assert.deepEqual((attrs.get("req") as { kvlistValue: { values: Json[] } }).kvlistValue.values[1], {
      key: "headers",
      value: { kvlistValue: { values: [{ key: "host", value: { stringValue: "example.com" } }] } },
    });
    const failed = new Map((proto[1]!.attributes as Json[]).map((a) => [a.key, a.value]));
    assert.deepEqual(failed.get("exception.type"), { stringValue: "TypeError" });
    assert.deepEqual(failed.get("err"), {
      kvlistValue: { values: [{ key: "code", value: { stringValue: "E_BAD" } }] },
    });
  });
});
