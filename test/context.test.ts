// Request context and trace context from a real worker: a real @opentelemetry/api with an SDK
// tracer provider makes real spans in a forked process; the records are checked in a real master
// and as a real OtlpLogHandler posts them to a loopback receiver that decodes them with the
// official opentelemetry-proto schema.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { LoggerConfig, MasterLogger, OtlpLogHandler } from "../src/index.js";
import { decodedRecords, decodedRecordsOf, type Json } from "./handlers/otlp/proto.js";
import { CollectHandler } from "./helpers/collect.js";
import { exited, forkFixture, nextMessage, tempDir } from "./helpers/processes.js";

type Ids = { traceId: string; spanId: string };

/**
 * OTLP/JSON writes traceId and spanId as hex where proto3 JSON has base64 for bytes; a Collector
 * special-cases the two, and so does this: hex to base64 before the strict schema decode. A value
 * that is not hex throws here.
 */
function hexIdsToBase64(body: string): { body: string; raw: Json[] } {
  const request = JSON.parse(body) as { resourceLogs: { scopeLogs: { logRecords: Json[] }[] }[] };
  const raw: Json[] = [];
  for (const resource of request.resourceLogs) {
    for (const scope of resource.scopeLogs) {
      for (const record of scope.logRecords) {
        raw.push({ ...record });
        for (const key of ["traceId", "spanId"]) {
          const hex = record[key];
          if (hex === undefined) continue;
          assert.match(String(hex), /^[0-9a-f]+$/, `${key} is hex`);
          record[key] = Buffer.from(String(hex), "hex").toString("base64");
        }
      }
    }
  }
  return { body: JSON.stringify(request), raw };
}

async function receiver(
  t: TestContext,
): Promise<{ url: string; records: Json[]; raw: Json[]; errors: string[] }> {
  const records: Json[] = [];
  const raw: Json[] = [];
  const errors: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        const body = Buffer.concat(chunks);
        const type = req.headers["content-type"];
        if (type === "application/x-protobuf") {
          // Binary ids are bytes; "as sent" is their hex, as the JSON encoding would write them.
          const decoded = decodedRecordsOf(type, body);
          records.push(...decoded);
          for (const record of decoded) {
            const copy = { ...record };
            for (const key of ["traceId", "spanId"])
              if (copy[key] !== undefined) copy[key] = hexOf(copy[key]);
            // proto3 leaves a zero out of the decoded message: flags 0 reads back as absent.
            if (copy.traceId !== undefined) copy.flags ??= 0;
            raw.push(copy);
          }
        } else {
          const converted = hexIdsToBase64(body.toString("utf8"));
          records.push(...decodedRecords(converted.body));
          raw.push(...converted.raw);
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (error) {
        errors.push(String(error));
        res.writeHead(400, { "content-type": "application/json" }).end("{}");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
  return { url, records, raw, errors };
}

const hexOf = (base64: unknown): string => Buffer.from(String(base64), "base64").toString("hex");

describe("request and trace context from a real worker", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const)
    test(`fields in the master, traceId/spanId/flags in OTLP (${protocol})`, async (t) => {
      const server = await receiver(t);
      const dir = tempDir(t);
      const options = { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 50 };
      const collect = new CollectHandler();
      const otlp = new OtlpLogHandler({ url: server.url, maxDelayMs: 20, protocol });
      const master = new MasterLogger(new LoggerConfig(options), [collect, otlp]);
      t.after(() => master.shutdown());
      await master.ready();
      const child = forkFixture(t, "context-worker.js", { config: options, name: "ctx" });
      const { spans } = await nextMessage<{ spans: Record<string, Ids> }>(child, "spans");
      await nextMessage(child, "done");
      assert.equal((await exited(child)).code, 0);
      await master.shutdown();

      const { request, db, unsampled } = spans as Record<string, Ids>;
      assert.ok(request && db && unsampled);
      assert.equal(db.traceId, request.traceId, "the nested span is in the request's trace");
      assert.notEqual(db.spanId, request.spanId);
      const traceOf = (ids: Ids, flags: string) => ({
        trace_id: ids.traceId,
        span_id: ids.spanId,
        trace_flags: flags,
      });
      const mine = collect.fromWorkers();
      assert.deepEqual(
        mine.map((r) => [r.message, r.fields]),
        [
          ["outside", {}],
          ["in span", { ...traceOf(request, "01"), reqId: "r-1", tenant: "acme" }],
          // Bindings first, then trace and mixin fields, then the call's (which wins).
          ["after await", { step: "auth", ...traceOf(request, "01"), reqId: "r-1", tenant: "override" }],
          ["in nested span", { ...traceOf(db, "01"), reqId: "r-1", tenant: "acme", query: "select" }],
          ["unsampled", traceOf(unsampled, "00")],
        ],
      );

      assert.deepEqual(server.errors, []);
      assert.equal(otlp.stats.failed, 0);
      const byBody = (records: Json[], body: string) =>
        records.find((r) => JSON.stringify(r.body).includes(`"${body}"`))!;
      const expected: Array<[string, Ids | undefined, number]> = [
        ["outside", undefined, 0],
        ["in span", request, 1],
        ["after await", request, 1],
        ["in nested span", db, 1],
        ["unsampled", unsampled, 0],
      ];
      for (const [body, ids, flags] of expected) {
        const decoded = byBody(server.records, body);
        const raw = byBody(server.raw, body);
        assert.ok(decoded && raw, body);
        const keys = (decoded.attributes as Json[]).map((a) => a.key);
        assert.ok(
          !keys.includes("trace_id") && !keys.includes("span_id") && !keys.includes("trace_flags"),
          body,
        );
        if (ids === undefined) {
          assert.equal(decoded.traceId, undefined, body);
          assert.equal(raw.traceId, undefined, body);
          continue;
        }
        // As sent: hex of 16 and 8 bytes; as a receiver decodes them: the same bytes.
        assert.deepEqual([raw.traceId, raw.spanId, raw.flags], [ids.traceId, ids.spanId, flags], body);
        assert.deepEqual([hexOf(decoded.traceId), hexOf(decoded.spanId)], [ids.traceId, ids.spanId], body);
        assert.equal(Buffer.from(String(decoded.traceId), "base64").length, 16);
        assert.equal(Buffer.from(String(decoded.spanId), "base64").length, 8);
        assert.equal(decoded.flags ?? 0, flags, body);
      }
      assert.ok((byBody(server.records, "in span").attributes as Json[]).some((a) => a.key === "reqId"));
    });
});
