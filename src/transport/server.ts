import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { MAX_SOCKET_PATH_BYTES } from "../config.js";
import { AddressInUseError, ListenFailedError, UnsafePathError } from "../errors.js";
import { currentUid, socketDirectoryProblem } from "../state/dirs.js";

/** Owner-only: other local users must not be able to inject records or read status. */
const SOCKET_MODE = 0o600;
/** bind(2) creates a socket file with mode 0777 & ~umask: this umask makes that SOCKET_MODE. */
const SOCKET_UMASK = 0o777 & ~SOCKET_MODE;
const DIRECTORY_MODE = 0o700;
/** How long a probe waits for a live master to accept before calling the socket stale. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Creates the socket's directory owner-only when missing; refuses ({@link UnsafePathError}) one
 * that another user owns or can write to, unless it is a sticky shared directory like /tmp (see
 * {@link socketDirectoryProblem}). For every uid, root included: root passes every permission
 * check, so for root only this check keeps it out of a directory another user controls.
 */
export function ensurePrivateDirectory(directory: string): void {
  let stats: ReturnType<typeof lstatSync> | undefined;
  try {
    stats = lstatSync(directory);
  } catch {
    mkdirSync(directory, { recursive: true, mode: DIRECTORY_MODE });
    return;
  }
  const problem = socketDirectoryProblem(stats);
  if (problem !== undefined) {
    throw new UnsafePathError("socket directory", directory, problem);
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
    if (uid !== undefined && existing.uid !== uid) {
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
  await bindOwnerOnly(server, path);
  return server;
}

/**
 * Binds `server` at `path` so that the socket file is owner-only from the moment it exists. Bound
 * under the process's umask and chmod-ed afterwards, it would be open for that moment to anyone
 * who can reach the directory (any local user, in /tmp), who could connect then and stay connected.
 *
 * How: bind under a umask that leaves SOCKET_MODE. Node binds synchronously inside listen()
 * (`exclusive` keeps a cluster worker from asking the primary to bind, under the primary's umask),
 * so the umask needs to hold for that one call only. Preferred over binding elsewhere and moving
 * the socket into place because the path bound is the final one: no extra bytes against the
 * sun_path limit, nothing left behind by a crash, and EADDRINUSE exactly as before. The umask is
 * process-wide, so during that call other threads' new files are owner-only too: stricter, never
 * looser.
 *
 * worker_threads cannot set the umask (Node throws ERR_WORKER_UNSUPPORTED_OPERATION). There the
 * socket is bound in a fresh 0700 directory beside the target, made 0600 while no one else can
 * reach it, and hard-linked into place: link(2) is atomic like rename(2), and unlike rename it
 * fails when the path exists instead of replacing a socket another master bound meanwhile.
 */
async function bindOwnerOnly(server: Server, path: string): Promise<void> {
  let previous: number | undefined;
  try {
    previous = process.umask(SOCKET_UMASK);
  } catch {
    previous = undefined;
  }
  if (previous === undefined) return bindViaPrivateDirectory(server, path);
  const bound = listening(server, path);
  try {
    server.listen({ path, exclusive: true });
  } finally {
    process.umask(previous);
  }
  await bound;
}

async function bindViaPrivateDirectory(server: Server, path: string): Promise<void> {
  // mkdtemp creates the directory 0700.
  const directory = mkdtempSync(join(dirname(path), ".lmx-"));
  try {
    const temporary = join(directory, "s");
    if (Buffer.byteLength(temporary) > MAX_SOCKET_PATH_BYTES) {
      throw new ListenFailedError(
        path,
        `cannot listen on ${path} from a worker thread: binding it owner-only there needs a path of ${Buffer.byteLength(temporary)} bytes, over the ${MAX_SOCKET_PATH_BYTES} Unix sockets allow; use a shorter socket path or run the master on the main thread`,
      );
    }
    const bound = listening(server, path);
    server.listen({ path: temporary, exclusive: true });
    await bound;
    try {
      chmodSync(temporary, SOCKET_MODE);
      linkSync(temporary, path);
    } catch (error) {
      server.close();
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new AddressInUseError(path, `${path} is in use: another master is listening on it`);
      }
      throw new ListenFailedError(path, `cannot listen on ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  } finally {
    // The socket stays bound through the link at `path`; the temporary name has served its purpose.
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Resolves once `server` listens; rejects with what went wrong, in terms of `path`. */
function listening(server: Server, path: string): Promise<void> {
  return new Promise<void>((done, fail) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        fail(new AddressInUseError(path, `${path} is in use: another master is listening on it`));
      } else {
        fail(
          new ListenFailedError(path, `cannot listen on ${path}: ${error.message}`, {
            cause: error,
          }),
        );
      }
    });
    server.once("listening", () => done());
  });
}

/** Removes the socket file if it is still a socket; a missing file is fine. */
export function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Already gone: nothing to clean up.
  }
}
