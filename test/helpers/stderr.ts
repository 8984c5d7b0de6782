/**
 * Runs `action` with this process's stderr captured (not printed) and returns what was written.
 * The original writer is restored even when `action` throws.
 */
export async function captureStderr(action: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await action();
  } finally {
    process.stderr.write = original;
  }
  return lines;
}
