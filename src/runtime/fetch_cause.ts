/**
 * Why a browser could not load a module. A module worker whose script
 * fails to load gets a bare `error` event, and a failed `import()` says only
 * "Failed to fetch dynamically imported module": fetching the URL again
 * tells a missing file from a refused one.
 * @module
 */

/** Whether `error` is a browser's "could not fetch this module" (Chromium, Firefox, Safari). */
export function isFetchFailure(error: unknown): boolean {
  return /Failed to fetch dynamically imported module|error loading dynamically imported module|Importing a module script failed/
    .test(String((error as Error)?.message ?? ""));
}

/**
 * Fetches `url` once more and says what most likely kept it from loading:
 * the server's status, a CORS refusal, or a refusal of the browser's own
 * (a Content Security Policy) when the fetch itself succeeds.
 */
export async function fetchCause(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (error) {
    return `it cannot be fetched (${
      (error as Error)?.message ?? error
    }): from another origin its server must allow this page with CORS (Access-Control-Allow-Origin), and a Content Security Policy (connect-src) may forbid it`;
  }
  await response.body?.cancel();
  if (!response.ok) {
    return `the server answered ${response.status}${
      response.statusText ? ` ${response.statusText}` : ""
    }`;
  }
  return "it can be fetched, so the browser refused to run it (a Content Security Policy's script-src or worker-src) or a module it imports failed to load";
}
