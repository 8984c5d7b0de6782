import { request } from "node:http";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One real GET on its own connection (no keep-alive pool to hold the server open). */
export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on("error", reject)
      .end();
  });
}

/**
 * A GET whose connection is destroyed once `abortWhen` resolves, before any response: the
 * server sees the client go away.
 */
export function abandon(port: number, path: string, abortWhen: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false });
    req.on("error", () => resolve());
    req.end();
    abortWhen.then(() => req.destroy(), reject);
  });
}

/** Walks a decoded field value; true when some object in it has one of `keys`. */
export function hasKeyDeep(value: unknown, keys: ReadonlySet<string>): boolean {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => hasKeyDeep(v, keys));
  return Object.entries(value).some(([k, v]) => keys.has(k) || hasKeyDeep(v, keys));
}
