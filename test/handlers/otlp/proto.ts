// Test-only: decodes OTLP/HTTP JSON with the official opentelemetry-proto definitions (vendored in
// test/fixtures/opentelemetry-proto, see its README) the way a Collector does: a strict proto3
// JSON parse (unknown fields, wrong types, out-of-range int64 and two members of a oneof are
// errors), then the binary protobuf encoding and back, so what tests inspect is what a receiver holds.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import protojson from "protobufjs/ext/protojson.js";

const protoDir = join(
  dirname(fileURLToPath(import.meta.url)),
  // .build/test/handlers/otlp -> the checkout's root.
  "..",
  "..",
  "..",
  "..",
  "test",
  "fixtures",
  "opentelemetry-proto",
);

let requestType: protobuf.Type | undefined;

function exportLogsServiceRequest(): protobuf.Type {
  if (requestType === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(protoDir, target);
    root.loadSync("opentelemetry/proto/collector/logs/v1/logs_service.proto");
    root.resolveAll();
    requestType = root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest");
  }
  return requestType;
}

export type Json = Record<string, unknown>;

/**
 * Parses an ExportLogsServiceRequest body (JSON text) strictly, encodes it as binary protobuf,
 * decodes that, and returns the result in OTLP/HTTP JSON form (int64 as decimal strings, bytes as
 * base64, non-finite doubles as "NaN"/"Infinity", enums as numbers, empty repeated fields left
 * out). Throws on anything the schema rejects.
 */
export function decodeRequest(body: string): Json {
  const type = exportLogsServiceRequest();
  const message = protojson.fromJsonString(type, body);
  const binary = type.encode(message).finish();
  // Not protojson.toJson: canonical proto3 JSON writes enums by name, and OTLP/HTTP JSON by number.
  return type.toObject(type.decode(binary), { longs: String, bytes: String, json: true }) as Json;
}

/** The log records of a decoded request (one resource, one scope, as the encoder sends). */
export function decodedRecords(body: string): Json[] {
  const request = decodeRequest(body) as {
    resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: Json[] }> }>;
  };
  return (request.resourceLogs ?? []).flatMap((r) => (r.scopeLogs ?? []).flatMap((s) => s.logRecords ?? []));
}

/**
 * Decodes an ExportLogsServiceRequest body in binary protobuf with the official schema, into the
 * same OTLP/HTTP JSON form as {@link decodeRequest}. Throws on bytes the schema cannot read.
 */
export function decodeBinaryRequest(body: Uint8Array): Json {
  const type = exportLogsServiceRequest();
  const message = type.decode(body);
  // Also what a strict receiver checks: no field of the wrong type (decode would skip nothing).
  const invalid = type.verify(message);
  if (invalid !== null) throw new Error(`invalid ExportLogsServiceRequest: ${invalid}`);
  return type.toObject(message, { longs: String, bytes: String, json: true }) as Json;
}

/** A request body of either encoding, by its Content-Type, in OTLP/HTTP JSON form. */
export function decodeAny(contentType: string | undefined, body: Buffer): Json {
  if (contentType === "application/x-protobuf") return decodeBinaryRequest(body);
  if (contentType === "application/json") return decodeRequest(body.toString("utf8"));
  throw new Error(`unexpected content-type ${contentType}`);
}

/** The log records of a decoded request of either encoding. */
export function decodedRecordsOf(contentType: string | undefined, body: Buffer): Json[] {
  const request = decodeAny(contentType, body) as {
    resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: Json[] }> }>;
  };
  return (request.resourceLogs ?? []).flatMap((r) => (r.scopeLogs ?? []).flatMap((s) => s.logRecords ?? []));
}

let responseType: protobuf.Type | undefined;

/** ExportLogsServiceResponse, from the same official definitions, for receivers answering in protobuf. */
export function exportLogsServiceResponse(): protobuf.Type {
  if (responseType === undefined) {
    exportLogsServiceRequest();
    responseType = requestType!.root.lookupType(
      "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
    );
  }
  return responseType;
}
