/** What one POST came to. */
export type PostOutcome =
  | { readonly kind: "response"; readonly status: number; readonly headers: Headers; readonly body: string }
  /** No complete answer within the request's own timeout. */
  | { readonly kind: "timeout" }
  | { readonly kind: "error"; readonly error: unknown }
  /** `cancel` aborted it (close() ran out of time). */
  | { readonly kind: "cancelled" };

/**
 * POSTs `body` as JSON and reads the whole answer. Redirects are not followed: they would re-send
 * the body somewhere the handler was not pointed at.
 */
export async function postJson(
  url: string,
  body: unknown,
  timeoutMs: number,
  cancel: AbortSignal,
): Promise<PostOutcome> {
  const controller = new AbortController();
  const onCancel = (): void => controller.abort();
  cancel.addEventListener("abort", onCancel);
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: controller.signal,
    });
    const text = await response.text();
    return { kind: "response", status: response.status, headers: response.headers, body: text };
  } catch (error) {
    if (cancel.aborted) return { kind: "cancelled" };
    if (controller.signal.aborted) return { kind: "timeout" };
    return { kind: "error", error };
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener("abort", onCancel);
  }
}
