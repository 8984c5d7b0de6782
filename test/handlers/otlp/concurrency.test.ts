// Concurrent requests (maxConcurrentRequests) and binary protobuf answers (ExportLogsServiceResponse
// with a partial success, google.rpc.Status with a reason), against a loopback receiver.
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, type TestContext, test } from "node:test";
import protobuf from "protobufjs";
import { OtlpLogHandler } from "../../../src/handlers/otlp/handler.js";
import { LogLevel } from "../../../src/levels.js";
import type { LogRecord } from "../../../src/record.js";
import { attach } from "./attach.js";
import { decodedRecordsOf, exportLogsServiceResponse, type Json } from "./proto.js";

const BASE_NS = 1_767_323_045_123_456_789n;

function records(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let seq = from; seq < to; seq++) {
    out.push({
      timestampNs: BASE_NS + BigInt(seq),
      level: LogLevel.INFO,
      name: "w",
      message: `${seq}`,
      pid: 1,
    });
  }
  return out;
}

interface Held {
  seqs: number[];
  res: ServerResponse;
}

/** A receiver that hands every decoded request to `onRequest`, which answers it now or later. */
async function receiver(t: TestContext, onRequest: (held: Held) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const decoded = decodedRecordsOf(req.headers["content-type"], Buffer.concat(chunks));
      onRequest({ seqs: decoded.map((r) => Number((r.body as Json).stringValue)), res });
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
}

const ok = (res: ServerResponse) => res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("maxConcurrentRequests", () => {
  test("4 by default: four requests in flight, answered out of order, each body in order, none lost", async (t) => {
    const arrived: number[][] = [];
    const held: Held[] = [];
    let handler: OtlpLogHandler | undefined;
    let atFour: { queued: number; inFlight: number } | undefined;
    let first = true;
    const url = await receiver(t, (request) => {
      arrived.push(request.seqs);
      // The first request is refused once, retried while the others go on.
      if (first) {
        first = false;
        request.res.writeHead(503).end();
        return;
      }
      if (atFour !== undefined) return ok(request.res);
      held.push(request);
      if (held.length < 4) return;
      atFour = { queued: handler!.stats.queued, inFlight: handler!.stats.inFlight };
      for (const h of held.reverse()) ok(h.res);
    });
    handler = new OtlpLogHandler({ url, maxBatchRecords: 10, retryMinMs: 50, retryMaxMs: 50 });
    handler.push(records(0, 100));
    await handler.close();
    // Four batches taken from the queue, no fifth: the retried one waits in its slot.
    assert.deepEqual(atFour, { queued: 60, inFlight: 40 });
    for (const seqs of arrived) assert.deepEqual(seqs, range(seqs[0]!, seqs[0]! + 10));
    const firstSeqs = arrived.map((s) => s[0]!);
    assert.equal(firstSeqs.length, 11);
    assert.deepEqual(
      [...new Set(firstSeqs)].sort((a, b) => a - b),
      range(0, 10).map((i) => i * 10),
    );
    assert.deepEqual(
      { sent: handler.stats.sent, requests: handler.stats.requests, retries: handler.stats.retries },
      { sent: 100, requests: 11, retries: 1 },
    );
  });

  test("1: one request at a time, strictly in order", async (t) => {
    const arrived: number[][] = [];
    let handler: OtlpLogHandler | undefined;
    const inFlightSeen: number[] = [];
    const url = await receiver(t, (request) => {
      arrived.push(request.seqs);
      inFlightSeen.push(handler!.stats.inFlight);
      ok(request.res);
    });
    handler = new OtlpLogHandler({ url, maxBatchRecords: 10, maxConcurrentRequests: 1 });
    handler.push(records(0, 45));
    await handler.close();
    assert.deepEqual(arrived.flat(), range(0, 45));
    assert.deepEqual(inFlightSeen, [10, 10, 10, 10, 5]);
  });

  test("invalid values name the option", () => {
    for (const bad of [0, 1.5, 257, "4"]) {
      assert.throws(
        () => new OtlpLogHandler({ maxConcurrentRequests: bad as number }),
        /Invalid maxConcurrentRequests: expected an integer from 1 to 256/,
      );
    }
  });
});

/** google.rpc.Status, as googleapis/google/rpc/status.proto defines it (not vendored here). */
function rpcStatus(code: number, message: string): Uint8Array {
  const any = new protobuf.Type("Any").add(new protobuf.Field("type_url", 1, "string"));
  any.add(new protobuf.Field("value", 2, "bytes"));
  const status = new protobuf.Type("Status")
    .add(new protobuf.Field("code", 1, "int32"))
    .add(new protobuf.Field("message", 2, "string"))
    .add(new protobuf.Field("details", 3, "Any", "repeated"));
  new protobuf.Root().define("google.rpc").add(any).add(status);
  return status
    .encode(
      status.fromObject({ code, message, details: [{ type_url: "type.googleapis.com/x", value: [1, 2] }] }),
    )
    .finish();
}

describe("binary protobuf answers", () => {
  test("a partial success in an ExportLogsServiceResponse is counted and reported, secrets redacted", async (t) => {
    const type = exportLogsServiceResponse();
    const body = type
      .encode(
        type.fromObject({ partialSuccess: { rejectedLogRecords: 3, errorMessage: "too old: key-abcdef" } }),
      )
      .finish();
    const url = await receiver(t, ({ res }) =>
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end(body),
    );
    const handler = new OtlpLogHandler({ url, headers: { "x-key": "key-abcdef" } });
    const seen = attach(handler);
    handler.push(records(0, 10));
    await handler.close();
    assert.deepEqual(
      { sent: handler.stats.sent, rejected: handler.stats.rejected },
      { sent: 7, rejected: 3 },
    );
    assert.deepEqual(seen.errors.length, 1);
    assert.match(seen.errors[0]!, /rejected 3 of 10 records \(partial success\): too old: \[REDACTED\]$/);
  });

  test("a warning with nothing rejected, and an empty response, are plain successes", async (t) => {
    const type = exportLogsServiceResponse();
    const warning = type.encode(type.fromObject({ partialSuccess: { errorMessage: "slow down" } })).finish();
    let n = 0;
    const url = await receiver(t, ({ res }) =>
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end(n++ === 0 ? warning : undefined),
    );
    const handler = new OtlpLogHandler({ url, maxBatchRecords: 5, maxConcurrentRequests: 1 });
    const seen = attach(handler);
    handler.push(records(0, 10));
    await handler.close();
    assert.deepEqual(
      { sent: handler.stats.sent, rejected: handler.stats.rejected },
      { sent: 10, rejected: 0 },
    );
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(
      seen.warnings.filter((w) => w.includes("warning")),
      [`${new URL(url).origin} accepted the batch with a warning: slow down`],
    );
  });

  test("a 400 with a google.rpc.Status reports its message and is not retried", async (t) => {
    const status = rpcStatus(3, "timestamps out of range");
    const url = await receiver(t, ({ res }) =>
      res.writeHead(400, { "content-type": "application/x-protobuf" }).end(status),
    );
    const handler = new OtlpLogHandler({ url, retryMinMs: 10 });
    const seen = attach(handler);
    handler.push(records(0, 4));
    await handler.close();
    assert.deepEqual(
      { failed: handler.stats.failed, requests: handler.stats.requests },
      { failed: 4, requests: 1 },
    );
    assert.match(
      seen.errors[0] ?? "",
      /refused 4 records with HTTP 400: timestamps out of range; not retried$/,
    );
  });
});
