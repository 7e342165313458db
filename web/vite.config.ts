// The UI's build: served by the binary under /ui/ (web/embed.go embeds dist/).
// Reproducible: content-hashed names, no timestamps, no source maps.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      // Mantine marks its modules "use client" (for React Server Components); a
      // single-page build has no use for the directive.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  oxc: {
    jsx: { runtime: "automatic" },
  },
});
