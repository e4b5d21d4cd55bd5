/**
 * What keeps a Redis password out of everything workq shows: URLs with
 * their user info replaced by `***`, and the client's errors rebuilt
 * without what they carry beyond their message (a reply error's
 * `command.args` holds the password of a failed `AUTH`; a script's error,
 * the items).
 * @module
 */

/**
 * A URL or any text that may hold one, with its user info (`user:password@`)
 * replaced by `***`: error messages never carry a password, even for a URL
 * too malformed to parse.
 */
export function redact(text: string): string {
  const scheme = text.indexOf("://");
  const from = scheme >= 0 ? scheme + 3 : 0;
  const at = text.lastIndexOf("@");
  return at >= from ? `${text.slice(0, from)}***${text.slice(at)}` : text;
}

/** The URL without its password (the user stays: it says who logged in). */
export function showUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return redact(url);
  }
}

/**
 * The forms a password may take in text: as given, %-encoded as in a URL,
 * and as the URL spelt it. Shorter than 4 characters, a "password" would
 * match inside ordinary words, and hides nothing anyway.
 */
export function secretForms(
  password: string | undefined,
  spelt?: string,
): string[] {
  if (password === undefined) return [];
  const forms = new Set([password, encodeURIComponent(password)]);
  if (spelt) forms.add(spelt);
  return [...forms].filter((s) => s.length >= 4).sort((a, b) =>
    b.length - a.length
  );
}

/** `text` with every form of a secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.replaceAll(secret, "***");
  return out;
}

/** What a rebuilt error keeps of the original: a code says what failed. */
interface Coded extends Error {
  code?: unknown;
}

/**
 * An error of the client (or of the socket under it) rebuilt as a plain
 * `Error`: its name, message, stack and `code`, with every secret scrubbed,
 * and its `cause` rebuilt the same way; nothing else — no `command`, no
 * arguments.
 * @param error What the client rejected or emitted.
 * @param secrets The password's forms ({@linkcode secretForms}).
 * @returns The rebuilt error (the same one when it is already rebuilt).
 */
export function cleanError(error: unknown, secrets: readonly string[]): Error {
  return rebuild(error, secrets, 0);
}

const CLEAN = Symbol("workq.cleanError");

function rebuild(error: unknown, secrets: readonly string[], depth: number) {
  if (error instanceof Error && (error as { [CLEAN]?: true })[CLEAN]) {
    return error;
  }
  const source = error instanceof Error ? error : undefined;
  const message = scrub(
    source ? String(source.message) : String(error),
    secrets,
  );
  const cause = source?.cause !== undefined && depth < 5
    ? rebuild(source.cause, secrets, depth + 1)
    : undefined;
  const clean: Coded = cause === undefined
    ? new Error(message)
    : new Error(message, { cause });
  if (source) {
    if (source.name && source.name !== "Error") {
      Object.defineProperty(clean, "name", {
        value: scrub(String(source.name), secrets),
        configurable: true,
        writable: true,
      });
    }
    const code = (source as Coded).code;
    if (typeof code === "string" || typeof code === "number") {
      clean.code = typeof code === "string" ? scrub(code, secrets) : code;
    }
    if (typeof source.stack === "string") {
      clean.stack = scrub(source.stack, secrets);
    }
  }
  Object.defineProperty(clean, CLEAN, { value: true });
  return clean;
}
