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
  return (await countEach(path, [needle]))[0];
}

/**
 * How many times each of `needles` occurs in the file, in one pass (the files of the structured
 * run hold several kinds of line and reach ~100 MB).
 */
export async function countEach(path, needles) {
  const patterns = needles.map((n) => Buffer.from(n));
  const counts = patterns.map(() => 0);
  const longest = Math.max(...patterns.map((p) => p.length));
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (error.code === "ENOENT") return counts;
    throw error;
  }
  try {
    const chunk = Buffer.allocUnsafe(4 * 1024 * 1024 + longest);
    let carry = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, carry, chunk.length - carry, null);
      const eof = bytesRead === 0;
      const end = carry + bytesRead;
      const view = chunk.subarray(0, end);
      // The last longest-1 bytes are kept for the next read, which may complete a match starting
      // there; a match that starts in them is counted then, not now (at the end of the file, now).
      const keepFrom = eof ? end : Math.max(0, end - longest + 1);
      patterns.forEach((pattern, k) => {
        for (
          let at = view.indexOf(pattern);
          at !== -1 && at < keepFrom;
          at = view.indexOf(pattern, at + pattern.length)
        )
          counts[k]++;
      });
      if (eof) break;
      chunk.copy(chunk, 0, keepFrom, end);
      carry = end - keepFrom;
    }
    return counts;
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
