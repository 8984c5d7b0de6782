import { errorOf } from "../protocol/record-batch.js";

/** Indent of an error's stack under its line, as a traceback sits under Python's `exc_info` line. */
const INDENT = "    ";

/** Causes followed at most: a cause chain is a few links; a longer one is a cycle or a bug. */
const MAX_CAUSES = 8;

/**
 * What follows a text line for a record with an error: its stack, each line indented, then each
 * cause as `Caused by: <stack>`. Empty when the record has no error. An error whose stack is
 * empty shows `Type: message`.
 */
export function errorTrailer(fields: Readonly<Record<string, unknown>> | undefined): string {
  if (fields === undefined) return "";
  const err = errorOf(fields);
  if (err === undefined) return "";
  let out = `\n${indent(stackOf(err))}`;
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out += `\n${INDENT}code: ${String(code)}`;
  let cause = err.cause;
  for (let i = 0; i < MAX_CAUSES && cause !== undefined; i++) {
    out += `\n${INDENT}Caused by: ${indent(cause instanceof Error ? stackOf(cause) : String(cause)).trimStart()}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return out;
}

function stackOf(error: Error): string {
  const stack = typeof error.stack === "string" ? error.stack : "";
  return stack === "" ? `${error.name}: ${error.message}` : stack;
}

function indent(text: string): string {
  return INDENT + text.replace(/\n/g, `\n${INDENT}`);
}
