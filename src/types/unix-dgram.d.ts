// Minimal types for the optional native package `unix-dgram` (no types of its own), covering only
// what SyslogLogHandler uses: a connected AF_UNIX SOCK_DGRAM socket.
declare module "unix-dgram" {
  import type { EventEmitter } from "node:events";

  /** Errors carry the negated errno in `code` (e.g. -111 for ECONNREFUSED); congestion has code 1. */
  export interface UnixDgramError extends Error {
    code: number;
    errno?: number;
    syscall?: string;
  }

  export interface UnixDgramSocket extends EventEmitter {
    /** Synchronous: emits 'connect' or 'error' before returning. */
    connect(path: string): void;
    /**
     * On a connected socket: sends one datagram; the callback runs synchronously, with no error on
     * success, an error with `code` 1 and message "congestion" when the kernel reported
     * EAGAIN/ENOBUFS ('writable' follows once sending can resume), or an errno error.
     */
    send(buf: Buffer, callback: (error?: UnixDgramError) => void): void;
    /** Closes the descriptor; throws on failure. */
    close(): void;
    on(event: "error", listener: (error: UnixDgramError) => void): this;
    on(event: "connect" | "writable", listener: () => void): this;
    on(event: "congestion", listener: (buf: Buffer) => void): this;
  }

  export function createSocket(type: "unix_dgram"): UnixDgramSocket;
}
