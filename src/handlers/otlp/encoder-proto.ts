import { LEVEL_NAMES, LogLevel } from "../../levels.js";
import { errorOf } from "../../protocol/record-batch.js";
import type { LogRecord } from "../../record.js";
import { exceptionAttributes, fieldAttributes, keyValue, stringKeyValue } from "./attributes-proto.js";
import {
  OTLP_SEVERITY_BY_LEVEL,
  type OtlpAttributeValue,
  type OtlpEncoder,
  SCOPE_VERSION,
} from "./encoder.js";
import { F, ProtoWriter, varintSize } from "./proto-writer.js";
import { traceOf } from "./trace.js";

const R = F.logRecord;

/**
 * Encodes records as an OTLP/HTTP binary protobuf `ExportLogsServiceRequest`, the same data as
 * {@link OtlpJsonEncoder} sends. Hand-written for the same reasons: each record is written once
 * into a reused buffer and copied out as its `LogRecord` message; the resource and scope are
 * encoded once, and a request is those bytes, the records' bytes and three lengths.
 */
export class OtlpProtoEncoder implements OtlpEncoder<Buffer> {
  readonly contentType = "application/x-protobuf";
  readonly #writer = new ProtoWriter();
  /** The `Resource` message. */
  readonly #resource: Buffer;
  /** The `InstrumentationScope` message. */
  readonly #scope: Buffer;
  readonly #workerAttr = new Map<string, Buffer>();

  constructor(resource: Readonly<Record<string, OtlpAttributeValue>>) {
    const w = this.#writer;
    for (const [key, value] of Object.entries(resource)) keyValue(w, F.resource.attributes, key, value);
    this.#resource = w.take();
    w.string(F.scope.name, "logmux");
    w.string(F.scope.version, SCOPE_VERSION);
    this.#scope = w.take();
  }

  #worker(name: string): Buffer {
    let attr = this.#workerAttr.get(name);
    if (attr === undefined) {
      const w = new ProtoWriter(64);
      stringKeyValue(w, R.attributes, "logmux.worker.name", name);
      attr = w.take();
      if (this.#workerAttr.size >= 1024) this.#workerAttr.clear();
      this.#workerAttr.set(name, attr);
    }
    return attr;
  }

  /** One `LogRecord` message (without its tag and length). `observedNs` is when the master handled it. */
  record(record: LogRecord, observedNs: bigint): Buffer {
    const w = this.#writer;
    const level = OTLP_SEVERITY_BY_LEVEL[record.level] === undefined ? LogLevel.INFO : record.level;
    w.fixed64(R.timeUnixNano, record.timestampNs);
    w.uint(R.severityNumber, OTLP_SEVERITY_BY_LEVEL[level]!);
    w.string(R.severityText, LEVEL_NAMES[level]!);
    const body = w.begin(R.body);
    w.string(F.anyValue.string, record.message);
    w.end(body);
    w.raw(this.#worker(record.name));
    keyValue(w, R.attributes, "process.pid", record.pid);
    if (record.data !== undefined) keyValue(w, R.attributes, "logmux.data", record.data);
    const fields = record.fields;
    const err = record.err ?? (fields === undefined ? undefined : errorOf(fields));
    if (err !== undefined) exceptionAttributes(w, R.attributes, err);
    const trace = traceOf(fields);
    if (fields !== undefined || err !== undefined)
      fieldAttributes(w, R.attributes, fields ?? {}, err, trace !== undefined);
    if (trace !== undefined) {
      // In field order, as the JSON encoder sends them: flags, then the ids as raw bytes.
      w.fixed32(R.flags, trace.flags);
      w.bytes(R.traceId, Buffer.from(trace.traceId, "hex"));
      w.bytes(R.spanId, Buffer.from(trace.spanId, "hex"));
    }
    w.fixed64(R.observedTimeUnixNano, observedNs);
    return w.take();
  }

  /** The request body for records already encoded with {@link record}. */
  body(encodedRecords: readonly Buffer[]): Buffer {
    let recordsLength = 0;
    for (const r of encodedRecords) recordsLength += 1 + varintSize(r.length) + r.length;
    const scopeLogs = 1 + varintSize(this.#scope.length) + this.#scope.length + recordsLength;
    const resourceLogs =
      1 + varintSize(this.#resource.length) + this.#resource.length + 1 + varintSize(scopeLogs) + scopeLogs;
    const out = Buffer.allocUnsafe(1 + varintSize(resourceLogs) + resourceLogs);
    let pos = 0;
    const tag = (field: number): void => {
      out[pos++] = field * 8 + 2;
    };
    const length = (value: number): void => {
      while (value >= 128) {
        out[pos++] = (value % 128) | 128;
        value = Math.floor(value / 128);
      }
      out[pos++] = value;
    };
    const bytes = (data: Buffer): void => {
      length(data.length);
      pos += data.copy(out, pos);
    };
    tag(F.request.resourceLogs);
    length(resourceLogs);
    tag(F.resourceLogs.resource);
    bytes(this.#resource);
    tag(F.resourceLogs.scopeLogs);
    length(scopeLogs);
    tag(F.scopeLogs.scope);
    bytes(this.#scope);
    for (const r of encodedRecords) {
      tag(F.scopeLogs.logRecords);
      bytes(r);
    }
    return out;
  }
}
