/**
 * Whether a process with this pid exists (EPERM: it exists but belongs to someone else). What a
 * file left by another process (a spool, a gzip's temp file) needs to know before it is taken
 * over or deleted: its writer may still be at work.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
