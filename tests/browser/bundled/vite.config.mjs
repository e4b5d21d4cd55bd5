// workq's worker entry is an ES module (top-level await, import.meta.url):
// Vite's default worker format, iife, cannot hold it.
export default {
  worker: { format: "es" },
};
