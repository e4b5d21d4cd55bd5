// The app's module task, a module of its own that imports nothing (so no
// second copy of workq comes with it): esbuild builds it as an entry point,
// Vite copies it as the asset `new URL("./tasks.js", import.meta.url)` names.
/** A module task. */
export function square(n) {
  return n * n;
}
