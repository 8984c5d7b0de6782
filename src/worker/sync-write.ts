import { writeSync } from "node:fs";
import type { Socket } from "node:net";

/**
 * Bounded busy-retry for all of a process's last writes together: the socket is non-blocking,
 * and at exit there is no event loop to wait on. A master that reads nothing for this long is
 * treated like a gone one (the spool has everything), so a stopped master cannot hang an exit.
 */
export const SYNC_WRITE_DEADLINE_MS = 2000;

/**
 * The socket's file descriptor when bytes can be appended to its stream synchronously: connected,
 * and nothing queued in Node or libuv (such a write may be half on the wire, and bytes of ours
 * after it would corrupt the stream). Otherwise undefined.
 */
export function idleSocketFd(socket: Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: number; writeQueueSize?: number } })._handle;
  const fd = handle?.fd;
  if (fd === undefined || fd < 0) return undefined;
  if (socket.writableLength > 0 || (handle?.writeQueueSize ?? 0) > 0) return undefined;
  return fd;
}

/** True only when every byte of `frame` was written; EPIPE, ECONNRESET or the deadline: false. */
export function writeFully(fd: number, frame: Buffer, deadline: number): boolean {
  let offset = 0;
  while (offset < frame.length) {
    try {
      offset += writeSync(fd, frame, offset, frame.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN" || Date.now() > deadline) return false;
    }
  }
  return true;
}
