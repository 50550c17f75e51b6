// Builds the dashboard into build/web: src/web/app.ts bundled by esbuild (uPlot included), index.html, and one
// CSS file (uPlot's + ours). Run by `npm install` (prepare), `npm test` and `npm run build:web`; no network.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const out = resolve(root, "build/web");
mkdirSync(out, { recursive: true });
const require = createRequire(import.meta.url);
await build({
  entryPoints: [resolve(root, "src/web/app.ts")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  outfile: resolve(out, "app.js"),
  logLevel: "warning",
});
const uplotCss = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
writeFileSync(
  resolve(out, "app.css"),
  `${uplotCss}\n${readFileSync(resolve(root, "src/web/style.css"), "utf8")}`,
);
copyFileSync(resolve(root, "src/web/index.html"), resolve(out, "index.html"));
console.log(`dashboard built into ${out}`);
