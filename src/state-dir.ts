import { mkdirSync } from "node:fs";
import { join } from "node:path";

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

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}
