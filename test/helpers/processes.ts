import { type ChildProcess, type ForkOptions, fork } from "node:child_process";
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, parse } from "node:path";
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
  // An absolute path is a fixture from elsewhere (forkFixtureAs's readable copy).
  const child = fork(isAbsolute(fixture) ? fixture : join(fixturesDir, fixture), [JSON.stringify(args)], {
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

/** uid and gid of `nobody`: a real other user, for tests that run as root. */
export const NOBODY = { uid: 65534, gid: 65534 } as const;

/**
 * Forks a fixture as another user (`options.uid`/`gid`), from a copy that user can read. The
 * checkout may sit in a private directory (a clone under /root, mode 0700), where the other user
 * could not load `.build/test/fixtures/*.js` and would fail with MODULE_NOT_FOUND. The copy holds
 * the compiled fixtures, the test helpers some of them import and the compiled library
 * (`.build/src`, which they import as `../../src/index.js`), laid out as in `.build/`, so the
 * child runs exactly the code under test. Returns undefined (and says why) when no directory the
 * other user can reach exists; the caller then skips.
 */
export function forkFixtureAs(
  t: TestContext,
  fixture: string,
  args: unknown,
  options: ForkOptions & { uid: number; gid: number },
  env: NodeJS.ProcessEnv = {},
): ChildProcess | undefined {
  const root = readableCopy(t);
  if (typeof root !== "string") {
    t.skip(root.reason);
    return undefined;
  }
  return forkFixture(t, join(root, "test", "fixtures", fixture), args, env, { cwd: root, ...options });
}

function readableByAll(path: string): void {
  if (!statSync(path).isDirectory()) {
    chmodSync(path, 0o644);
    return;
  }
  chmodSync(path, 0o755);
  for (const entry of readdirSync(path)) readableByAll(join(path, entry));
}

/** Where `readableCopy` cannot put a copy another user can read, and why. */
interface Unreachable {
  reason: string;
}

function readableCopy(t: TestContext): string | Unreachable {
  const base = tmpdir();
  // Another user reaches the copy only if every directory above it lets anyone search it.
  for (let dir = base; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      return { reason: `${dir} (above the temp dir ${base}) is not searchable by other users` };
    }
    if (dir === parse(dir).root) break;
  }
  const root = tempDir(t, "lmx-fx-");
  chmodSync(root, 0o755);
  const build = join(fixturesDir, "..", "..");
  const noMaps = (source: string): boolean => !source.endsWith(".map");
  for (const part of ["src", join("test", "fixtures"), join("test", "helpers")]) {
    cpSync(join(build, part), join(root, part), { recursive: true, filter: noMaps });
  }
  // cpSync keeps the source's modes, which a restrictive umask at build time made owner-only.
  readableByAll(root);
  // .build has no package.json of its own: the checkout's says "type": "module".
  writeFileSync(join(root, "package.json"), '{ "type": "module" }\n', { mode: 0o644 });
  return root;
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

/**
 * Sends SIGSTOP and resolves once every thread of `pid` has stopped (state T or t in /proc): the
 * signal takes effect asynchronously, and no event says a process has stopped.
 */
export async function stopProcess(pid: number, timeoutMs = 5000): Promise<void> {
  process.kill(pid, "SIGSTOP");
  const tasks = `/proc/${pid}/task`;
  const stopped = (): boolean =>
    readdirSync(tasks).every((task) => {
      const stat = readFileSync(join(tasks, task, "stat"), "utf8");
      const state = stat[stat.lastIndexOf(")") + 2];
      return state === "T" || state === "t";
    });
  await waitFor(stopped, timeoutMs, `pid ${pid} to stop`);
}
