/**
 * Which copy of workq this is. A program that loads workq from two URLs (a
 * task module importing it from another path, or over http while the parent
 * used file:) has two sets of classes, and a Queue of one fails the other's
 * `instanceof`. Each copy stamps its classes with its URL and lists itself
 * in a registry the thread shares, so that a check refusing such an object
 * says where it came from instead of "received an object (Queue)".
 * @module
 */

// Symbol.for: the one key every copy sees, whatever URL it was loaded from.
const BRAND = Symbol.for("workq.copy");
const REGISTRY = Symbol.for("workq.copies");

/** The URL this copy of workq was loaded from (its root, where `mod.ts` is). */
export const HOME: string = new URL("../", import.meta.url).href;

const shared = globalThis as { [REGISTRY]?: string[] };
const copies = shared[REGISTRY] ??= [];
if (!copies.includes(HOME)) copies.push(HOME);

/** Stamps a class's instances as this copy's. */
export function brand(ctor: { readonly prototype: object }): void {
  Object.defineProperty(ctor.prototype, BRAND, { value: HOME });
}

/** The URL of the copy a workq object came from, when that is not this copy. */
export function foreignCopy(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const home = (value as { [BRAND]?: unknown })[BRAND];
  return typeof home === "string" && home !== HOME ? home : undefined;
}

/** Describes a workq object of another copy (see {@linkcode foreignCopy}). */
export function describeForeign(value: object, home: string): string {
  const name = Object.getPrototypeOf(value)?.constructor?.name ?? "object";
  return `a ${name} from another copy of workq (loaded from ${home}), while this code uses the copy at ${HOME} (this thread has loaded ${copies.length} copies); import workq from the same URL in the parent and in its task modules`;
}
