import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { inspect } from "node:util";
import { gunzipSync } from "node:zlib";
import { HandlerError, InvalidConfigError } from "../../../src/errors.js";
import { OTLP_SEVERITY_BY_LEVEL, OtlpJsonEncoder } from "../../../src/handlers/otlp/encoder.js";
import { OtlpLogHandler } from "../../../src/handlers/otlp/handler.js";
import type { OtlpLogHandlerOptions, OtlpProtocol } from "../../../src/handlers/otlp/options.js";
import { LEVEL_NAMES, LogLevel } from "../../../src/levels.js";
import type { LogRecord } from "../../../src/record.js";
import { rejection } from "../../helpers/fake-api.js";
import { bodyWithSecretAcross, secretPieces } from "../../helpers/secrets.js";
import { captureStderr } from "../../helpers/stderr.js";
import { attach } from "./attach.js";
import { decodeBinaryRequest, decodeRequest } from "./proto.js";

const BASE_NS = 1_767_323_045_123_456_789n;
const SEVERITIES = [1, 5, 9, 13, 17, 21];

function rec(seq: number): LogRecord {
  const record: LogRecord = {
    timestampNs: BASE_NS + BigInt(seq) * 1_000_003n,
    level: (seq % 6) as LogLevel,
    name: seq % 2 === 0 ? "worker-0" : 'wörker "1"',
    message: `seq=${seq} héllo 日本語 "quoted" \\ \n newline`,
    pid: 4000 + (seq % 3),
  };
  return seq % 5 === 0 ? { ...record, data: new Uint8Array([seq & 0xff, 0, 1, 255]) } : record;
}

function records(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let seq = from; seq < to; seq++) out.push(rec(seq));
  return out;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every object key in the payload is lowerCamelCase, as the OTLP JSON encoding requires. */
function assertCamelCase(value: unknown, path = "$"): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) assertCamelCase(v, `${path}[${i}]`);
  } else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      assert.match(key, /^[a-z][a-zA-Z]*$/, `${path}.${key} is not lowerCamelCase`);
      assertCamelCase(v, `${path}.${key}`);
    }
  }
}

function attributeMap(list: unknown, where: string): Map<string, Json> {
  assert.ok(Array.isArray(list), `${where}.attributes is an array`);
  const map = new Map<string, Json>();
  for (const kv of list) {
    assert.ok(isObject(kv) && typeof kv.key === "string" && isObject(kv.value), `${where}: {key, value}`);
    assert.equal(Object.keys(kv.value).length, 1, `${where}.${kv.key}: exactly one value field`);
    map.set(kv.key, kv.value);
  }
  return map;
}

/**
 * Validates an ExportLogsServiceRequest the way a strict receiver would, and returns its log
 * records. Shape as in opentelemetry-proto/examples/logs.json; 64-bit integers as decimal strings.
 */
function validateRequest(payload: unknown): Json[] {
  assertCamelCase(payload);
  assert.ok(isObject(payload) && Array.isArray(payload.resourceLogs), "resourceLogs array");
  assert.equal(payload.resourceLogs.length, 1);
  const resourceLogs = payload.resourceLogs[0] as Json;
  assert.ok(isObject(resourceLogs.resource), "resource object");
  const resource = attributeMap(resourceLogs.resource.attributes, "resource");
  assert.equal(typeof resource.get("service.name")?.stringValue, "string");
  assert.equal(typeof resource.get("host.name")?.stringValue, "string");
  assert.ok(Array.isArray(resourceLogs.scopeLogs) && resourceLogs.scopeLogs.length === 1, "one scopeLogs");
  const scopeLogs = resourceLogs.scopeLogs[0] as Json;
  assert.ok(isObject(scopeLogs.scope) && scopeLogs.scope.name === "logmux", 'scope.name = "logmux"');
  assert.ok(Array.isArray(scopeLogs.logRecords), "logRecords array");
  for (const lr of scopeLogs.logRecords as Json[]) {
    assert.match(String(lr.timeUnixNano), /^\d{19}$/);
    assert.equal(typeof lr.timeUnixNano, "string", "timeUnixNano is a decimal string");
    assert.equal(typeof lr.observedTimeUnixNano, "string", "observedTimeUnixNano is a decimal string");
    assert.match(lr.observedTimeUnixNano as string, /^\d{19}$/);
    assert.ok(SEVERITIES.includes(lr.severityNumber as number), `severityNumber ${lr.severityNumber}`);
    assert.equal(typeof lr.severityText, "string");
    assert.ok(isObject(lr.body) && typeof lr.body.stringValue === "string", "body.stringValue");
    const attrs = attributeMap(lr.attributes, "logRecord");
    assert.equal(typeof attrs.get("logmux.worker.name")?.stringValue, "string");
    assert.match(String(attrs.get("process.pid")?.intValue), /^\d+$/);
    assert.equal(typeof attrs.get("process.pid")?.intValue, "string", "intValue is int64: a string");
    const data = attrs.get("logmux.data");
    if (data !== undefined) assert.match(String(data.bytesValue), /^[A-Za-z0-9+/]*={0,2}$/);
  }
  return scopeLogs.logRecords as Json[];
}

/** Checks one decoded record against the LogRecord it came from. */
function assertMatches(lr: Json, record: LogRecord): void {
  assert.equal(lr.timeUnixNano, String(record.timestampNs));
  assert.equal(lr.severityNumber, SEVERITIES[record.level]);
  assert.equal(lr.severityText, LEVEL_NAMES[record.level]);
  assert.deepEqual(lr.body, { stringValue: record.message });
  const attrs = attributeMap(lr.attributes, "logRecord");
  assert.deepEqual(attrs.get("logmux.worker.name"), { stringValue: record.name });
  assert.deepEqual(attrs.get("process.pid"), { intValue: String(record.pid) });
  if (record.data === undefined) assert.equal(attrs.get("logmux.data"), undefined);
  else
    assert.deepEqual(attrs.get("logmux.data"), { bytesValue: Buffer.from(record.data).toString("base64") });
}

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  records: Json[];
}

type Reply = (res: ServerResponse) => void;

/**
 * A loopback OTLP/HTTP receiver that validates every request of the given encoding; replies come
 * from `script`, then 200 `{}`.
 */
async function receiver(t: TestContext, script: Reply[] = [], protocol: OtlpProtocol = "http/json") {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const entry: Received = { at: Date.now(), headers: req.headers, records: [] };
      try {
        assert.equal(req.method, "POST");
        assert.equal(req.url, "/v1/logs");
        if (protocol === "http/protobuf") {
          assert.equal(req.headers["content-type"], "application/x-protobuf");
          entry.records = validateRequest(decodeBinaryRequest(body));
        } else {
          assert.equal(req.headers["content-type"], "application/json");
          const text = body.toString("utf8");
          entry.records = validateRequest(JSON.parse(text));
          // What a Collector decodes with the official schema is exactly what was sent.
          assert.deepEqual(decodeRequest(text), JSON.parse(text));
        }
      } catch (error) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: 3, message: `receiver validation failed: ${String(error)}` }));
        received.push(entry);
        return;
      }
      received.push(entry);
      const reply = script.shift();
      if (reply !== undefined) reply(res);
      else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
  return { url, received, count: () => received.reduce((n, r) => n + r.records.length, 0) };
}

function status(code: number, headers: Record<string, string> = {}, body = ""): Reply {
  return (res) => {
    res.writeHead(code, { "content-type": "application/json", ...headers });
    res.end(body);
  };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("OTLP JSON encoding", () => {
  test("matches the spec's example shape field for field", () => {
    const encoder = new OtlpJsonEncoder({
      "service.name": "svc",
      "host.name": "h1",
      "deploy.n": 3,
      flag: true,
    });
    const record = { ...rec(5), level: LogLevel.WARNING };
    const payload = JSON.parse(encoder.request([encoder.record(record, 1_767_323_046_000_000_001n)]));
    assert.deepEqual(payload, {
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: "service.name", value: { stringValue: "svc" } },
              { key: "host.name", value: { stringValue: "h1" } },
              { key: "deploy.n", value: { intValue: "3" } },
              { key: "flag", value: { boolValue: true } },
            ],
          },
          scopeLogs: [
            {
              scope: { name: "logmux", version: "0.1.0" },
              logRecords: [
                {
                  timeUnixNano: String(record.timestampNs),
                  observedTimeUnixNano: "1767323046000000001",
                  severityNumber: 13,
                  severityText: "WARNING",
                  body: { stringValue: record.message },
                  attributes: [
                    { key: "logmux.worker.name", value: { stringValue: record.name } },
                    { key: "process.pid", value: { intValue: String(record.pid) } },
                    {
                      key: "logmux.data",
                      value: { bytesValue: Buffer.from([5, 0, 1, 255]).toString("base64") },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    validateRequest(payload);
  });

  test("severity numbers start each of the spec's ranges", () => {
    assert.deepEqual(OTLP_SEVERITY_BY_LEVEL, [1, 5, 9, 13, 17, 21]);
  });

  test("invalid options name the field and what it accepts", () => {
    const cases: Array<[OtlpLogHandlerOptions, string]> = [
      [{ url: "ftp://x/v1/logs" }, "url"],
      [{ url: "not a url" }, "url"],
      [{ headers: { a: 1 as unknown as string } }, "headers.a"],
      [{ maxBatchRecords: 0 }, "maxBatchRecords"],
      [{ gzip: "yes" as unknown as boolean }, "gzip"],
      [{ serviceName: "" }, "serviceName"],
      [{ resourceAttributes: { x: {} as string } }, "resourceAttributes.x"],
    ];
    for (const [options, field] of cases) {
      assert.throws(
        () => new OtlpLogHandler(options),
        (error: unknown) => error instanceof InvalidConfigError && error.field === field,
        field,
      );
    }
  });
});

for (const protocol of ["http/json", "http/protobuf"] as const) {
  describe(`OtlpLogHandler against a loopback receiver (${protocol})`, () => {
    test("delivers every record, batched by maxBatchRecords, fields exact", async (t) => {
      const server = await receiver(t, [], protocol);
      const handler = new OtlpLogHandler({
        protocol,
        url: server.url,
        maxBatchRecords: 500,
        serviceName: "svc",
      });
      const seen = attach(handler);
      const N = 1200;
      handler.push(records(0, N));
      await handler.close();
      assert.deepEqual(seen.errors, []);
      // Up to maxConcurrentRequests requests run at once and may arrive in any order; each
      // request's records are in order, so ordering requests by their first record restores it.
      server.received.sort((a, b) =>
        Number(BigInt(String(a.records[0]!.timeUnixNano)) - BigInt(String(b.records[0]!.timeUnixNano))),
      );
      assert.deepEqual(
        server.received.map((r) => r.records.length),
        [500, 500, 200],
      );
      assert.deepEqual(
        { sent: handler.stats.sent, failed: handler.stats.failed, requests: handler.stats.requests },
        { sent: N, failed: 0, requests: 3 },
      );
      const all = server.received.flatMap((r) => r.records);
      for (const [seq, lr] of all.entries()) assertMatches(lr, rec(seq));
    });

    test("a partial batch goes out after maxDelayMs without close()", async (t) => {
      const server = await receiver(t, [], protocol);
      const handler = new OtlpLogHandler({ protocol, url: server.url, maxDelayMs: 50 });
      t.after(() => handler.close());
      handler.push(records(0, 3));
      assert.equal(server.received.length, 0);
      await waitFor("the delayed batch", () => server.count() === 3);
      await waitFor("the handler to count it", () => handler.stats.sent === 3);
    });

    test("gzip: Content-Encoding gzip, body decompresses to a valid request", async (t) => {
      const server = await receiver(t, [], protocol);
      const handler = new OtlpLogHandler({ protocol, url: server.url, gzip: true });
      handler.push(records(0, 300));
      await handler.close();
      assert.equal(server.received.length, 1);
      assert.equal(server.received[0]!.headers["content-encoding"], "gzip");
      assert.equal(server.count(), 300);
      assert.equal(handler.stats.sent, 300);
    });

    test("429 with Retry-After is retried after the given delay, then succeeds", async (t) => {
      const server = await receiver(t, [status(429, { "retry-after": "1" })], protocol);
      // A tiny backoff, so that only Retry-After can explain a one-second gap.
      const handler = new OtlpLogHandler({ protocol, url: server.url, retryMinMs: 10 });
      const seen = attach(handler);
      handler.push(records(0, 20));
      await handler.close();
      assert.equal(server.received.length, 2);
      const gap = server.received[1]!.at - server.received[0]!.at;
      assert.ok(gap >= 950, `waited ${gap} ms`);
      assert.deepEqual(
        { sent: handler.stats.sent, retries: handler.stats.retries, failed: handler.stats.failed },
        { sent: 20, retries: 1, failed: 0 },
      );
      assert.deepEqual(seen.errors, []);
    });

    test("503 (and 502, 504) are retried with backoff", async (t) => {
      const server = await receiver(t, [status(503), status(502), status(504)], protocol);
      const handler = new OtlpLogHandler({ protocol, url: server.url, retryMinMs: 10 });
      handler.push(records(0, 7));
      await handler.close();
      assert.equal(server.received.length, 4);
      assert.deepEqual(
        { sent: handler.stats.sent, retries: handler.stats.retries, requests: handler.stats.requests },
        { sent: 7, retries: 3, requests: 4 },
      );
    });

    test("400 is not retried, and is reported with the server's reason", async (t) => {
      const server = await receiver(
        t,
        [status(400, {}, JSON.stringify({ code: 3, message: "bad timestamps" }))],
        protocol,
      );
      const handler = new OtlpLogHandler({ protocol, url: server.url, retryMinMs: 10 });
      const seen = attach(handler);
      handler.push(records(0, 9));
      handler.push(records(9, 10));
      await handler.close();
      assert.equal(server.received.length, 1);
      assert.deepEqual(
        { sent: handler.stats.sent, failed: handler.stats.failed, retries: handler.stats.retries },
        { sent: 0, failed: 10, retries: 0 },
      );
      assert.equal(seen.errors.length, 1);
      assert.match(seen.errors[0]!, /refused 10 records with HTTP 400: bad timestamps; not retried/);
    });

    test("partial success: rejected records are counted and reported", async (t) => {
      const body = JSON.stringify({ partialSuccess: { rejectedLogRecords: "2", errorMessage: "too old" } });
      const server = await receiver(t, [status(200, {}, body)], protocol);
      const handler = new OtlpLogHandler({ protocol, url: server.url });
      const seen = attach(handler);
      handler.push(records(0, 10));
      await handler.close();
      assert.deepEqual(
        { sent: handler.stats.sent, rejected: handler.stats.rejected },
        { sent: 8, rejected: 2 },
      );
      assert.equal(seen.errors.length, 1);
      assert.match(seen.errors[0]!, /rejected 2 of 10 records \(partial success\): too old/);
    });

    test("headers are sent but never printed: reports redact them, inspect shows none", async (t) => {
      const token = "Bearer sk-live-0123456789abcdef";
      // The server echoes the header back in its error, as some proxies do.
      const server = await receiver(
        t,
        [
          (res) => {
            res.writeHead(401, { "content-type": "text/plain" });
            res.end(`invalid credentials: ${token}`);
          },
        ],
        protocol,
      );
      const handler = new OtlpLogHandler({
        protocol,
        url: server.url,
        headers: { authorization: token, "x-tenant": "acme" },
      });
      assert.deepEqual(handler.secrets(), [token, "acme"]);
      assert.ok(!inspect(handler, { depth: 5, showHidden: true }).includes("sk-live"));
      assert.ok(!JSON.stringify(handler).includes("sk-live"));
      const stderr = await captureStderr(async () => {
        handler.push(records(0, 4));
        await handler.close();
      });
      assert.equal(server.received[0]!.headers.authorization, token);
      assert.equal(server.received[0]!.headers["x-tenant"], "acme");
      assert.equal(handler.stats.failed, 4);
      const printed = stderr.join("");
      assert.match(printed, /HTTP 401: invalid credentials: \[REDACTED\]/);
      assert.ok(!printed.includes("sk-live"), printed);
    });

    test("an error body with a header value across the report's cut is redacted before it is cut", async (t) => {
      const token = "Bearer sk-live-0123456789abcdef";
      // 300: the handler's MAX_REPORTED_BODY_CHARS (not exported); the body is trimmed, not padded.
      const body = bodyWithSecretAcross(token, 300);
      const server = await receiver(
        t,
        [
          (res) => {
            res.writeHead(401, { "content-type": "text/plain" });
            res.end(body);
          },
        ],
        protocol,
      );
      const handler = new OtlpLogHandler({ protocol, url: server.url, headers: { authorization: token } });
      const seen = attach(handler);
      handler.push(records(0, 2));
      await handler.close();
      const reported = seen.errors.join("\n");
      assert.deepEqual(secretPieces(reported, token), []);
      assert.match(reported, /HTTP 401: e+\[REDACTED\]/);
    });

    test("close() gives up at closeTimeoutMs on a receiver that never answers, and says so", async (t) => {
      const server = await receiver(t, [() => {}], protocol);
      const handler = new OtlpLogHandler({ protocol, url: server.url, closeTimeoutMs: 300 });
      const seen = attach(handler);
      handler.push(records(0, 5));
      const closeError = await rejection(handler.close());
      assert.equal(server.received.length, 1);
      assert.deepEqual({ sent: handler.stats.sent, failed: handler.stats.failed }, { sent: 0, failed: 5 });
      assert.ok(closeError instanceof HandlerError, String(closeError));
      assert.ok(closeError.message.includes("5 records not delivered"), closeError.message);
      assert.ok(closeError.message.includes(handler.label), closeError.message);
      // The loss is said once, by the rejection the master reports, not also through reportError.
      assert.ok(!seen.errors.some((e) => e.includes("not delivered")), seen.errors.join("\n"));
    });

    test("connection refused is retried, then given up after maxAttempts and reported", async (t) => {
      const server = await receiver(t, [], protocol);
      const handler = new OtlpLogHandler({
        protocol,
        url: server.url.replace(/:\d+\//, ":1/"),
        retryMinMs: 10,
        maxAttempts: 3,
      });
      const seen = attach(handler);
      handler.push(records(0, 2));
      await handler.close();
      assert.deepEqual(
        { failed: handler.stats.failed, requests: handler.stats.requests, retries: handler.stats.retries },
        { failed: 2, requests: 3, retries: 2 },
      );
      assert.match(seen.errors[0] ?? "", /gave up on 2 records after 3 attempts/);
    });

    test("a full queue drops the oldest and reports the exact count", async (t) => {
      const server = await receiver(t, [], protocol);
      const handler = new OtlpLogHandler({ protocol, url: server.url, maxQueue: 100, maxBatchRecords: 1000 });
      const seen = attach(handler);
      handler.push(records(0, 130));
      assert.deepEqual(
        { queued: handler.stats.queued, dropped: handler.stats.dropped },
        { queued: 100, dropped: 30 },
      );
      await handler.close();
      assert.equal(server.count(), 100);
      assert.equal(server.received[0]!.records[0]!.timeUnixNano, String(rec(30).timestampNs));
      assert.deepEqual(
        seen.warnings.filter((w) => w.includes("dropped 30 records")),
        [seen.warnings.find((w) => w.includes("dropped 30 records"))],
      );
    });
  });
}
