// The OTEL_EXPORTER_OTLP_* environment variables: parsed as the OpenTelemetry specification says,
// options in code winning, invalid values naming the variable without echoing credentials; and a
// real handler configured only by the environment, posting to a loopback receiver.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { InvalidConfigError } from "../../../src/errors.js";
import { kAttach } from "../../../src/handlers/base.js";
import { OtlpLogHandler } from "../../../src/handlers/otlp/handler.js";
import { type OtlpLogHandlerOptions, resolveOtlpOptions } from "../../../src/handlers/otlp/options.js";
import { LogLevel } from "../../../src/levels.js";
import type { LogRecord } from "../../../src/record.js";
import { decodedRecordsOf, type Json } from "./proto.js";

type Env = Record<string, string | undefined>;

const resolve = (env: Env, options: OtlpLogHandlerOptions = {}) => resolveOtlpOptions(options, env);

function invalid(env: Env, variable: string, options: OtlpLogHandlerOptions = {}): string {
  let caught: unknown;
  try {
    resolve(env, options);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InvalidConfigError, `${variable}: ${String(caught)}`);
  assert.equal(caught.field, variable);
  return caught.message;
}

describe("OTEL_EXPORTER_OTLP_* variables", () => {
  test("endpoint: the logs variable as it is, the generic one with /v1/logs appended, url wins", () => {
    assert.equal(resolve({}).url.href, "http://127.0.0.1:4318/v1/logs");
    const cases: Array<[string, string]> = [
      ["http://collector:4318", "http://collector:4318/v1/logs"],
      ["http://collector:4318/", "http://collector:4318/v1/logs"],
      ["https://gw.example/otlp", "https://gw.example/otlp/v1/logs"],
      ["https://gw.example/otlp/", "https://gw.example/otlp/v1/logs"],
      [" http://c:4318 ", "http://c:4318/v1/logs"],
    ];
    for (const [base, href] of cases)
      assert.equal(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: base }).url.href, href);
    const both = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://generic:4318",
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://logs:9999/custom",
    };
    assert.equal(resolve(both).url.href, "http://logs:9999/custom");
    // An empty variable counts as unset.
    assert.equal(
      resolve({ ...both, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "" }).url.href,
      "http://generic:4318/v1/logs",
    );
    assert.equal(resolve(both, { url: "http://mine:1/x" }).url.href, "http://mine:1/x");
    const message = invalid(
      { OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://user:hunter22@x" },
      "OTEL_EXPORTER_OTLP_ENDPOINT",
    );
    assert.ok(!message.includes("hunter22"), message);
    invalid({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "collector:4318 nope" }, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
  });

  test("protocol: http/protobuf by default, the logs variable over the generic one, the option over both", () => {
    assert.equal(resolve({}).protocol, "http/protobuf");
    assert.equal(resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).protocol, "http/json");
    assert.equal(
      resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/protobuf" })
        .protocol,
      "http/protobuf",
    );
    assert.equal(
      resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, { protocol: "http/json" }).protocol,
      "http/json",
    );
    const grpc = invalid({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "OTEL_EXPORTER_OTLP_PROTOCOL");
    assert.match(grpc, /expected "http\/protobuf" or "http\/json" \(OTLP\/gRPC is not supported.*got grpc/);
    invalid({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/JSON" }, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL");
    invalid({}, "protocol", { protocol: "grpc" as "http/json" });
  });

  test("timeout: whole milliseconds, the logs variable first, timeoutMs over both", () => {
    assert.equal(resolve({}).timeoutMs, 10_000);
    assert.equal(resolve({ OTEL_EXPORTER_OTLP_TIMEOUT: "2500" }).timeoutMs, 2500);
    assert.equal(
      resolve({ OTEL_EXPORTER_OTLP_TIMEOUT: "2500", OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: "700" }).timeoutMs,
      700,
    );
    assert.equal(resolve({ OTEL_EXPORTER_OTLP_TIMEOUT: "bad" }, { timeoutMs: 5 }).timeoutMs, 5);
    for (const bad of ["abc", "0", "-5", "1.5", "10s", "99999999999"]) {
      const message = invalid({ OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: bad }, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT");
      assert.match(message, /expected a whole number of milliseconds from 1 to 2147483647/);
    }
  });

  test("headers: percent-decoded pairs, the logs variable over the generic one per name, options over both", () => {
    assert.deepEqual(resolve({}).headers, {});
    assert.deepEqual(
      resolve({
        OTEL_EXPORTER_OTLP_HEADERS: " Authorization = Basic%20dXNlcjpwYXNz , x-tenant=acme,,api-key=k==",
      }).headers,
      { Authorization: "Basic dXNlcjpwYXNz", "x-tenant": "acme", "api-key": "k==" },
    );
    assert.deepEqual(
      resolve(
        {
          OTEL_EXPORTER_OTLP_HEADERS: "Authorization=generic,x-a=1",
          OTEL_EXPORTER_OTLP_LOGS_HEADERS: "authorization=logs,x-b=2",
        },
        { headers: { "X-A": "mine" } },
      ).headers,
      { authorization: "logs", "x-b": "2", "X-A": "mine" },
    );
  });

  test("invalid headers name the variable and the header, never its value", () => {
    const secret = "sk-live-0123456789";
    const cases: Array<[string, RegExp]> = [
      [`${secret}`, /pair 1 has none/],
      [`ok=1,=${secret}`, /pair 2 has none/],
      [`bad name=${secret}`, /pair 1 has none/],
      [`authorization=${secret}%E0%A4%A`, /header "authorization" is not valid percent-encoding/],
      [`authorization=${secret}%0A`, /header "authorization" has a character HTTP headers cannot carry/],
    ];
    for (const [value, expected] of cases) {
      const message = invalid({ OTEL_EXPORTER_OTLP_LOGS_HEADERS: value }, "OTEL_EXPORTER_OTLP_LOGS_HEADERS");
      assert.match(message, expected);
      assert.ok(!message.includes("sk-live"), message);
    }
  });
});

/** Sets variables for one test, the OTLP ones it does not name cleared, and restores them after. */
function withEnv(t: TestContext, vars: Env): void {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith("OTEL_")) delete process.env[name];
  Object.assign(process.env, vars);
  t.after(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });
}

interface Seen {
  url: string | undefined;
  headers: IncomingHttpHeaders;
  records: Json[];
  at: number;
}

async function receiver(t: TestContext, script: Array<(res: ServerResponse) => void> = []) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({
        url: req.url,
        headers: req.headers,
        records: decodedRecordsOf(req.headers["content-type"], body),
        at: Date.now(),
      });
      const reply = script.shift();
      if (reply !== undefined) reply(res);
      else res.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const record = (message: string): LogRecord => ({
  timestampNs: 1_767_323_045_123_456_789n,
  level: LogLevel.INFO,
  name: "w",
  message,
  pid: 1,
});

describe("a handler configured by the environment alone", () => {
  test("posts protobuf to <endpoint>/v1/logs with the decoded headers; secrets stay out of reports", async (t) => {
    const token = "Bearer sk-env-0123456789abcdef";
    const server = await receiver(t, [
      (res) => res.writeHead(401, { "content-type": "text/plain" }).end(`bad token ${token}`),
    ]);
    withEnv(t, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `${server.origin}/base`,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(token)},x-tenant=acme`,
    });
    const handler = new OtlpLogHandler({ retryMinMs: 10 });
    const errors: string[] = [];
    handler[kAttach]({
      strFormat: "%(message)s",
      warn: () => {},
      reportError: (e) => errors.push(String(e)),
    });
    assert.deepEqual(handler.secrets(), [token, "acme"]);
    handler.push([record("first")]);
    await handler.close();
    assert.equal(server.seen.length, 1);
    assert.equal(server.seen[0]!.url, "/base/v1/logs");
    assert.equal(server.seen[0]!.headers["content-type"], "application/x-protobuf");
    assert.equal(server.seen[0]!.headers.authorization, token);
    assert.equal(server.seen[0]!.headers["x-tenant"], "acme");
    assert.deepEqual(server.seen[0]!.records[0]!.body, { stringValue: "first" });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /HTTP 401: bad token \[REDACTED\]/);
    assert.ok(!errors[0]!.includes("sk-env"), errors[0]);
  });

  test("protocol and timeout from the environment: JSON, and a silent receiver retried after the timeout", async (t) => {
    const server = await receiver(t, [() => {}]);
    withEnv(t, {
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${server.origin}/custom/path`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: "300",
    });
    const handler = new OtlpLogHandler({ retryMinMs: 10 });
    handler.push([record("again")]);
    await handler.close();
    assert.deepEqual(
      server.seen.map((s) => [s.url, s.headers["content-type"], s.records[0]?.body]),
      [
        ["/custom/path", "application/json", { stringValue: "again" }],
        ["/custom/path", "application/json", { stringValue: "again" }],
      ],
    );
    const gap = server.seen[1]!.at - server.seen[0]!.at;
    // The receiver stamps a request when its body has arrived, a little after the handler sent it.
    assert.ok(gap >= 250 && gap < 5000, `retried after ${gap} ms`);
    assert.deepEqual({ sent: handler.stats.sent, retries: handler.stats.retries }, { sent: 1, retries: 1 });
  });
});
