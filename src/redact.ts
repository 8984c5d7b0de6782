const REDACTED = "[REDACTED]";

/**
 * Replaces every occurrence of each secret in `text`. Secrets shorter than 4 characters are ignored:
 * replacing them would shred ordinary words while protecting nothing.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join(REDACTED);
    // fetch and URL parsers may echo the secret percent-encoded.
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  return out;
}

/** Text of an error (message, cause chain) with secrets removed, for stderr reports. */
export function describeError(error: unknown, secrets: readonly string[]): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      parts.push(`${current.name}${typeof code === "string" ? ` [${code}]` : ""}: ${current.message}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return redact(parts.join(" <- caused by "), secrets);
}
