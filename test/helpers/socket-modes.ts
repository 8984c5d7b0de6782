import { lstatSync } from "node:fs";

/**
 * Starts something that binds a Unix socket at `path` and looks at the path's mode at every
 * point it can until `ready` settles: right after `start` returns (listenUnix binds synchronously
 * inside it), then on every event-loop turn, then once more. Returns the distinct modes seen
 * (permission bits only); an absent path is not recorded.
 */
export async function socketModesWhileStarting(
  path: string,
  start: () => { ready(): Promise<void> },
): Promise<number[]> {
  const seen = new Set<number>();
  const look = (): void => {
    try {
      seen.add(lstatSync(path).mode & 0o7777);
    } catch {
      // Not there yet.
    }
  };
  const started = start();
  look();
  let settled = false;
  const ready = started.ready().finally(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve));
    look();
  }
  await ready;
  look();
  return [...seen];
}
