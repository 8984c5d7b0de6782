import { createRequire } from "node:module";

/** `require` from this package, for what is loaded on first use rather than at import. */
export const requireHere = createRequire(import.meta.url);

/**
 * A getter that loads a Node built-in the first time a handler needs it. OTLP's http, https and
 * zlib and syslog's dgram and tls are used only by those handlers, yet every worker process
 * imports logmux: loading the five at import cost each process about 9 ms of CPU, a quarter of
 * the whole import (median of 12 imports on the development VM).
 */
export function lazyBuiltin<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= requireHere(name) as T;
    return loaded;
  };
}
