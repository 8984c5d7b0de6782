import type * as Http from "node:http";
import type * as Https from "node:https";
import type * as Zlib from "node:zlib";
import { lazyBuiltin } from "../kit/lazy-require.js";

const http = lazyBuiltin<typeof Http>("node:http");
const https = lazyBuiltin<typeof Https>("node:https");
const zlib = lazyBuiltin<typeof Zlib>("node:zlib");

/** Response bodies are read up to this size; a success response is tiny, an error a few KB. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface OtlpResponse {
  readonly status: number;
  readonly headers: Http.IncomingMessage["headers"];
  readonly body: string;
  readonly bytes: Buffer;
}

export type OtlpAttempt = { kind: "response"; response: OtlpResponse } | { kind: "error"; error: Error };

export const gzipAsync = (data: Buffer): Promise<Buffer> =>
  new Promise((done, fail) => zlib().gzip(data, (error, out) => (error ? fail(error) : done(out))));

/** Connections kept alive, one per request that may run at the same time. */
export function otlpAgent(url: URL, maxSockets: number): Http.Agent {
  const agentOptions = { keepAlive: true, maxSockets };
  return url.protocol === "https:" ? new (https().Agent)(agentOptions) : new (http().Agent)(agentOptions);
}

/**
 * POSTs one request body and reads the answer; never rejects. `onRequest` receives a way to abort
 * the request (close() ran out of time), until the attempt settles.
 */
export function postOtlp(
  url: URL,
  agent: Http.Agent,
  headers: Readonly<Record<string, string | number>>,
  body: Buffer,
  timeoutMs: number,
  onRequest: (destroy: ((error: Error) => void) | undefined) => void,
): Promise<OtlpAttempt> {
  return new Promise<OtlpAttempt>((resolve) => {
    const send = url.protocol === "https:" ? https().request : http().request;
    let settled = false;
    const finish = (attempt: OtlpAttempt): void => {
      if (settled) return;
      settled = true;
      onRequest(undefined);
      resolve(attempt);
    };
    const request = send(url, {
      method: "POST",
      headers: { ...headers, "content-length": body.length },
      agent,
      timeout: timeoutMs,
    });
    onRequest((error) => request.destroy(error));
    request.on("timeout", () => request.destroy(new Error(`no response within ${timeoutMs} ms`)));
    request.on("error", (error) => finish({ kind: "error", error }));
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      response.on("error", (error) => finish({ kind: "error", error }));
      response.on("end", () => {
        const bytes = Buffer.concat(chunks);
        finish({
          kind: "response",
          response: {
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: bytes.toString("utf8"),
            bytes,
          },
        });
      });
    });
    request.end(body);
  });
}
