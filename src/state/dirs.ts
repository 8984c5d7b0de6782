import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { UnsafePathError } from "../errors.js";

/**
 * Where a master and its workers keep what must survive a crash: the worker spools and the
 * master's commit journal, in `<socket path>.d/` beside the socket (same private directory).
 */
export function stateDir(socketPath: string): string {
  return `${socketPath}.d`;
}

export function spoolDir(socketPath: string): string {
  return join(stateDir(socketPath), "spool");
}

export function journalPath(socketPath: string): string {
  return join(stateDir(socketPath), "commits");
}

/** Owner-only: spools hold log records, which may hold anything. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Group- or world-writable: someone else could add, remove or rename entries of a directory, or
 * rewrite a file.
 */
const WRITABLE_BY_OTHERS = 0o022;
/** In a sticky directory only an entry's owner (or the directory's, or root) may remove or rename it. */
const STICKY = 0o1000;
/**
 * O_NOFOLLOW: a symbolic link is refused by the kernel (ELOOP) instead of followed somewhere else.
 * O_NONBLOCK: a FIFO planted in place of a file cannot block the open. Zero where undefined.
 */
const OPEN_SAFELY = (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** This process's uid; undefined where there are none (Windows), and then nothing is checked. */
export function currentUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** Why something with these stats is not this user's alone; undefined when it is. */
function notOursAlone(stats: Stats, kind: "directory" | "regular file"): string | undefined {
  if (stats.isSymbolicLink()) return "is a symbolic link";
  if (kind === "directory" ? !stats.isDirectory() : !stats.isFile()) return `is not a ${kind}`;
  const uid = currentUid();
  if (uid === undefined) return undefined;
  if (stats.uid !== uid) return `belongs to uid ${stats.uid}, not to this user (uid ${uid})`;
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0) {
    return `is writable by other users (mode ${octal(stats.mode)})`;
  }
  return undefined;
}

/**
 * Why a directory with these stats is no place for the socket; undefined when it is. Ours and not
 * writable by others; or a shared sticky directory such as /tmp, where others may add entries but
 * not remove or rename ours. Its owner could, so that must be us or root.
 */
export function socketDirectoryProblem(stats: Stats): string | undefined {
  if (!stats.isDirectory()) return "exists and is not a directory";
  const uid = currentUid();
  if (uid === undefined) return undefined;
  if ((stats.mode & STICKY) !== 0) {
    if (stats.uid === uid || stats.uid === 0) return undefined;
    return `is a shared sticky directory that belongs to uid ${stats.uid}, not to this user (uid ${uid}) or root`;
  }
  if (stats.uid !== uid) return `belongs to uid ${stats.uid}, not to this user (uid ${uid})`;
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0) {
    return `is writable by other users (mode ${octal(stats.mode)}) and not sticky`;
  }
  return undefined;
}

/**
 * Creates the state directory and its spool directory when missing, and refuses
 * ({@link UnsafePathError}) any of them, or the socket directory above, that another user owns or
 * could write to: spools there would be replayed as real records, and a journal there could hide
 * them as already delivered. lstat, so a symbolic link is refused, not followed. Checking by name
 * is enough here: each directory is checked before anything is made in it, and once the one
 * above is ours alone (or sticky) no one else can swap the one below.
 */
export function ensureStateDirectories(socketPath: string): void {
  const socketDirectory = dirname(socketPath);
  mkdirSync(socketDirectory, { recursive: true, mode: PRIVATE_DIR_MODE });
  const problem = socketDirectoryProblem(lstatSync(socketDirectory));
  if (problem !== undefined) {
    throw new UnsafePathError("socket directory", socketDirectory, problem);
  }
  ensureOwnDirectory(stateDir(socketPath), "state directory");
  ensureOwnDirectory(spoolDir(socketPath), "spool directory");
}

function ensureOwnDirectory(path: string, what: string): void {
  try {
    mkdirSync(path, { mode: PRIVATE_DIR_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const problem = notOursAlone(lstatSync(path), "directory");
  if (problem !== undefined) throw new UnsafePathError(what, path, problem);
}

/**
 * Opens a file of ours with `flags`, refusing ({@link UnsafePathError}, the fd closed) a symbolic
 * link, anything but a regular file, or a file another user owns or could write to. The check is
 * fstat on the opened fd, so it is about the file actually read or written, not about a name that
 * could be swapped between a check and the open.
 */
export function openOwnFile(path: string, flags: number, what: string, mode = PRIVATE_FILE_MODE): number {
  let fd: number;
  try {
    fd = openSync(path, flags | OPEN_SAFELY, mode);
  } catch (error) {
    // ELOOP on Linux, EMLINK on FreeBSD: the name is a symbolic link and O_NOFOLLOW refused it.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "EMLINK") {
      throw new UnsafePathError(what, path, "is a symbolic link");
    }
    throw error;
  }
  const problem = notOursAlone(fstatSync(fd), "regular file");
  if (problem !== undefined) {
    closeSync(fd);
    throw new UnsafePathError(what, path, problem);
  }
  return fd;
}
