import { redact } from "../../redact.js";

/**
 * Bounds a response body we read for error reports; services answer errors in a few hundred bytes.
 * Applied only after redaction (see {@link reportedBody}): a secret cut in half no longer matches
 * the redactor, so cutting first would print the half before the cut.
 */
export const MAX_REPORTED_BODY_CHARS = 300;

/** A response body as it may appear in a report: secrets removed first, then bounded. */
export function reportedBody(body: string, secrets: readonly string[]): string {
  return redact(body, secrets).slice(0, MAX_REPORTED_BODY_CHARS);
}
