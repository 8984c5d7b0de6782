/**
 * What the encoder writes in place of a request, a response or a socket found anywhere in a
 * record's fields: a few identifying fields. Encoded whole, one of these is hundreds of entries
 * (the socket, its server, parsers, timers, every header twice) cut off at the entry and depth
 * limits, and headers carry secrets. A serializer of the field's key (fastify's own, or
 * `stdSerializers.req`) still runs first and wins.
 *
 * Detected by shape, not `instanceof`: loading node:http and node:net only to compare would cost
 * every worker that never serves HTTP, and a framework's own request class (fastify's Request,
 * which holds the IncomingMessage as `raw`) is no IncomingMessage either.
 */

interface Probe {
  [key: string]: unknown;
}

function isIncomingMessage(o: Probe): boolean {
  return typeof o.httpVersion === "string" && typeof o.headers === "object" && "socket" in o;
}

function isServerResponse(o: Probe): boolean {
  return typeof o.writeHead === "function" && typeof o.getHeaders === "function";
}

function isSocket(o: Probe): boolean {
  return typeof o.setNoDelay === "function" && typeof o.setKeepAlive === "function";
}

function socketOf(o: Probe): Probe | undefined {
  const socket = o.socket;
  return typeof socket === "object" && socket !== null ? (socket as Probe) : undefined;
}

function requestSummary(outer: Probe, req: Probe): Record<string, unknown> {
  const socket = socketOf(req);
  const out: Record<string, unknown> = {};
  if (outer.id !== undefined && typeof outer.id !== "function" && typeof outer.id !== "object")
    out.id = outer.id;
  out.method = req.method;
  out.url = outer.originalUrl ?? req.originalUrl ?? req.url;
  out.remoteAddress = socket?.remoteAddress;
  out.remotePort = socket?.remotePort;
  return out;
}

/**
 * The summary to encode instead of `object`, or undefined when it is none of these (the common
 * case: a plain object costs one prototype check).
 */
export function httpSummary(object: object): Record<string, unknown> | undefined {
  const proto = Object.getPrototypeOf(object);
  if (proto === Object.prototype || proto === null) return undefined;
  try {
    return summaryOf(object as Probe);
  } catch {
    // A getter of some other class threw while it was probed: not ours to judge, so the object is
    // encoded as before, where such a getter (if enumerable and own) becomes a marker.
    return undefined;
  }
}

function summaryOf(o: Probe): Record<string, unknown> | undefined {
  if (isIncomingMessage(o)) return requestSummary(o, o);
  if (isServerResponse(o)) return { statusCode: o.statusCode };
  const raw = o.raw;
  if (typeof raw === "object" && raw !== null) {
    if (isIncomingMessage(raw as Probe)) return requestSummary(o, raw as Probe);
    if (isServerResponse(raw as Probe)) return { statusCode: (raw as Probe).statusCode };
  }
  if (isSocket(o)) return { remoteAddress: o.remoteAddress, remotePort: o.remotePort };
  return undefined;
}
