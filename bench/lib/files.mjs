// Temp directories, counting delivered lines, free ports.
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh directory under os.tmpdir(); short, so a socket path inside it fits sun_path. */
export function freshDir() {
  return mkdtempSync(join(tmpdir(), "lmxb-"));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs `body(dir)` with a fresh temp dir that is deleted afterwards, whatever happens. */
export async function withTempDir(body) {
  const dir = freshDir();
  try {
    return await body(dir);
  } finally {
    removeDir(dir);
  }
}

/**
 * How many times `needle` occurs in the file (0 when it does not exist). Every benchmarked line
 * carries the same message exactly once, so this counts delivered records whatever the line
 * format, and ignores any extra lines a logger writes itself.
 */
export async function countOccurrences(path, needle) {
  const pattern = Buffer.from(needle);
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (error.code === "ENOENT") return 0;
    throw error;
  }
  try {
    const chunk = Buffer.allocUnsafe(4 * 1024 * 1024 + pattern.length);
    let carry = 0;
    let count = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, carry, chunk.length - carry, null);
      if (bytesRead === 0) break;
      const end = carry + bytesRead;
      const view = chunk.subarray(0, end);
      let lastEnd = 0;
      for (let at = view.indexOf(pattern); at !== -1; at = view.indexOf(pattern, lastEnd)) {
        count++;
        lastEnd = at + pattern.length;
      }
      // Keep the tail that could start a match split across reads.
      const keepFrom = Math.max(lastEnd, end - pattern.length + 1);
      chunk.copy(chunk, 0, keepFrom, end);
      carry = end - keepFrom;
    }
    return count;
  } finally {
    await handle.close();
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
