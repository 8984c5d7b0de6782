import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { FakeApi } from "./fake-api.js";

const CHILD = fileURLToPath(new URL("../fixtures/network-child.js", import.meta.url));

/** A loopback port nothing listens on (bound, then released). */
async function refusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Runs test/fixtures/network-child.ts for `kind` against a fake API whose routes fail in every way
 * (500, 404, no answer, 400) plus a refused connection; returns everything the child printed.
 */
export async function runSecretsChild(
  kind: string,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const api = await FakeApi.start((request) => {
    if (request.url.startsWith("/fail500")) return { status: 500, body: "upstream exploded" };
    if (request.url.startsWith("/gone404"))
      return { status: 404, body: { message: "Unknown Webhook", code: 10015 } };
    if (request.url.startsWith("/reject400")) {
      return { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: something" } };
    }
    return "hang";
  });
  try {
    const port = await refusedPort();
    const child = spawn(process.execPath, [CHILD, kind, api.origin, `http://127.0.0.1:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const [code] = (await once(child, "close")) as [number | null];
    return { stdout, stderr, code };
  } finally {
    await api.close();
  }
}
