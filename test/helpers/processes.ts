import { type ChildProcess, type ForkOptions, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const fixturesDir = join(here, "..", "fixtures");

/** A fresh private temp dir, removed after the test. Short, because socket paths are limited. */
export function tempDir(t: TestContext, prefix = "lmx-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Forks a fixture and makes sure it dies with the test, even when an assertion fails first:
 * a leaked child would keep CI waiting.
 */
export function forkFixture(
  t: TestContext,
  fixture: string,
  args: unknown,
  env: NodeJS.ProcessEnv = {},
  options: ForkOptions = {},
): ChildProcess {
  const child = fork(join(fixturesDir, fixture), [JSON.stringify(args)], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...env },
    ...options,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  (child as ChildProcess & { stderrText: () => string }).stderrText = () => stderr;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}

export function stderrOf(child: ChildProcess): string {
  return (child as ChildProcess & { stderrText?: () => string }).stderrText?.() ?? "";
}

/**
 * Resolves with the first IPC message of `type` from `child`; rejects if it ends first. "Ends" is
 * 'close', not 'exit': 'exit' can be emitted while the child's last messages are still unread in
 * the IPC pipe, whereas 'close' waits for the channel to disconnect, after every message.
 */
export function nextMessage<T = Record<string, unknown>>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if ((message as { type?: string })?.type === type) {
        cleanup();
        resolve(message as T);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(
        new Error(
          `child exited (code ${code}, signal ${signal}) before sending "${type}": ${stderrOf(child)}`,
        ),
      );
    };
    const cleanup = (): void => {
      child.off("message", onMessage);
      child.off("close", onExit);
    };
    child.on("message", onMessage);
    child.on("close", onExit);
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

export function readLines(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/**
 * Polls `condition` until it holds or `timeoutMs` passes. For conditions no event announces (a
 * line reaching a file written by another process); the deadline turns a hang into a failure.
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
