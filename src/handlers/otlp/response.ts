/**
 * What an OTLP/HTTP receiver answers: an `ExportLogsServiceResponse` on success and a
 * `google.rpc.Status` on failure, in the request's encoding (the spec has the server answer in the
 * Content-Type it received). A proxy in front may answer with JSON or plain text instead, so the
 * response's own Content-Type decides how it is read.
 */
import type { OtlpResponse } from "./post.js";

export interface PartialSuccess {
  rejected: number;
  message: string;
}

function isProtobuf(response: OtlpResponse): boolean {
  const type = response.headers["content-type"];
  return typeof type === "string" && /^application\/(x-)?protobuf\b/i.test(type.trim());
}

/**
 * The length-delimited and varint fields of a protobuf message, as [field, value] pairs;
 * undefined when the bytes are not a well-formed message.
 */
function fields(bytes: Uint8Array): Array<[number, number | Uint8Array]> | undefined {
  const out: Array<[number, number | Uint8Array]> = [];
  let pos = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 1; pos < bytes.length; shift *= 128) {
      const byte = bytes[pos++]!;
      value += (byte & 127) * shift;
      if (byte < 128) return value;
      if (shift > 2 ** 63) return undefined;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      const value = varint();
      if (value === undefined) return undefined;
      out.push([field, value]);
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || pos + length > bytes.length) return undefined;
      out.push([field, bytes.subarray(pos, pos + length)]);
      pos += length;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      if (pos > bytes.length) return undefined;
    } else {
      return undefined;
    }
  }
  return out;
}

const text = (value: number | Uint8Array | undefined): string =>
  value instanceof Uint8Array ? Buffer.from(value).toString("utf8") : "";

/** The partial success a 2xx carries, if any; a body that cannot be read is a plain success. */
export function partialSuccessOf(response: OtlpResponse): PartialSuccess | undefined {
  if (response.bytes.length === 0) return undefined;
  if (isProtobuf(response)) {
    const partial = fields(response.bytes)?.find(([field]) => field === 1)?.[1];
    if (!(partial instanceof Uint8Array)) return undefined;
    const inner = fields(partial) ?? [];
    const rejected = inner.find(([field]) => field === 1)?.[1];
    return {
      // int64: a negative count would be ten varint bytes, far beyond any batch; treated as none.
      rejected: typeof rejected === "number" && rejected <= Number.MAX_SAFE_INTEGER ? rejected : 0,
      message: text(inner.find(([field]) => field === 2)?.[1]),
    };
  }
  if (response.body.trim() === "") return undefined;
  try {
    const parsed = JSON.parse(response.body) as {
      partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown };
    };
    const partial = parsed.partialSuccess;
    if (partial === undefined || partial === null) return undefined;
    // int64 in proto3 JSON: a string, though some servers send a number.
    const n = Number(partial.rejectedLogRecords ?? 0);
    return {
      rejected: Number.isFinite(n) && n > 0 ? Math.floor(n) : 0,
      message: typeof partial.errorMessage === "string" ? partial.errorMessage : "",
    };
  } catch {
    // A 2xx with a body that is not JSON is still a success.
    return undefined;
  }
}

/** The reason an error response gives: a Status's `message`, else the body as text (unredacted). */
export function errorReasonOf(response: OtlpResponse): string {
  if (isProtobuf(response)) {
    const message = fields(response.bytes)?.find(([field]) => field === 2)?.[1];
    if (message instanceof Uint8Array) return text(message).trim();
  }
  const body = response.body.trim();
  if (body === "") return "";
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {}
  return body;
}
