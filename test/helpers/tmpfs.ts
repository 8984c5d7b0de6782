import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

/**
 * Mounts a fresh tmpfs of `bytes` (a real small disk that can fill up) and unmounts it after the
 * test, even when it fails. Returns the mount point, or `{ skip }` saying why it could not.
 */
export function mountTmpfs(t: TestContext, bytes: number): string | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "not running as root" };
  const dir = mkdtempSync(join(tmpdir(), "lmx-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmdirSync(dir);
    return { skip: `mount failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}` };
  }
  t.after(() => {
    // Lazy: a child killed a moment ago may still hold a file open on it.
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
    rmdirSync(dir);
  });
  return dir;
}

/** Writes a file in `dir` until the disk refuses, so every later write there gets ENOSPC. */
export function fillDisk(dir: string): string {
  const path = join(dir, "filler");
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(1024 * 1024, 0x66);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return path;
}
