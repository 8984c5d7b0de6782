import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { AddressInUseError, LogmuxError } from "../errors.js";

/** Owner-only: other local users must not be able to inject records or read status. */
const SOCKET_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
/** How long a probe waits for a live master to accept before calling the socket stale. */
const PROBE_TIMEOUT_MS = 1000;

function currentUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/** Creates the socket's directory owner-only when missing; refuses one that belongs to someone else. */
export function ensurePrivateDirectory(directory: string): void {
  let stats: ReturnType<typeof lstatSync> | undefined;
  try {
    stats = lstatSync(directory);
  } catch {
    mkdirSync(directory, { recursive: true, mode: DIRECTORY_MODE });
    return;
  }
  if (!stats.isDirectory()) {
    throw new LogmuxError(
      `socket directory ${directory} exists and is not a directory`,
      "LOGMUX_UNSAFE_PATH",
    );
  }
  const uid = currentUid();
  if (uid !== undefined && uid !== 0 && stats.uid !== uid && (stats.mode & 0o1000) === 0) {
    // A directory someone else owns (and that is not a sticky shared dir like /tmp) could be
    // swapped under us; refuse rather than listen somewhere another user controls.
    throw new LogmuxError(
      `socket directory ${directory} belongs to uid ${stats.uid}, not to this user (uid ${uid})`,
      "LOGMUX_UNSAFE_PATH",
    );
  }
}

/** Resolves true when something accepts connections at `path`. */
function probe(path: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection(path);
    const finish = (alive: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      done(alive);
    };
    const timer = setTimeout(() => finish(true), PROBE_TIMEOUT_MS);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/**
 * Listens on a Unix socket at `path`, owner-only. A stale socket file (nothing accepts on it) is
 * replaced; one that a live process answers on is refused with {@link AddressInUseError}, and so is
 * a path that is not a socket or that belongs to another user.
 */
export async function listenUnix(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  ensurePrivateDirectory(dirname(path));
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(path);
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    if (!existing.isSocket()) {
      throw new AddressInUseError(path, `${path} exists and is not a socket; refusing to replace it`);
    }
    const uid = currentUid();
    if (uid !== undefined && uid !== 0 && existing.uid !== uid) {
      throw new AddressInUseError(
        path,
        `${path} belongs to uid ${existing.uid}, not to this user (uid ${uid})`,
      );
    }
    if (await probe(path)) {
      throw new AddressInUseError(path, `${path} is in use: another master is listening on it`);
    }
    unlinkSync(path);
  }
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, onConnection);
  await new Promise<void>((done, fail) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        fail(new AddressInUseError(path, `${path} is in use: another master is listening on it`));
      } else {
        fail(
          new LogmuxError(`cannot listen on ${path}: ${error.message}`, "LOGMUX_LISTEN_FAILED", {
            cause: error,
          }),
        );
      }
    });
    server.listen(path, () => done());
  });
  chmodSync(path, SOCKET_MODE);
  return server;
}

/** Removes the socket file if it is still a socket; a missing file is fine. */
export function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Already gone: nothing to clean up.
  }
}
