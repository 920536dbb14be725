// The page is served by `k8s-events serve` with a Content-Security-Policy that allows
// only its own files: no inline script, so no module-preload polyfill injected inline.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2020",
  },
});
