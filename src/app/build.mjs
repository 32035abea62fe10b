// The page's static folder, dist/app/ (`npm run build:app`, after the kernels are built): the page
// and its engine worker bundled by esbuild, the wasm helper-thread worker, the kernels' .wasm files
// (fetched beside the engine), index.html and app.css. Any static host can serve the folder; `xait
// serve` adds the model folders and the headers that enable threads.
//
//   node src/app/build.mjs [outRoot=dist]
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const outRoot = path.resolve(root, process.argv[2] ?? "dist");
const outDir = path.join(outRoot, "app");
const kernelsDir = path.join(outRoot, "src/tensor/wasm");

// The library loads its Node wasm loader only under Node (a dynamic import); the page never takes that
// path, so the bundle gets a stub instead of node:fs and worker_threads.
const nodeLoaderStub = {
  name: "xait-node-loader-stub",
  setup(b) {
    b.onResolve({ filter: /(^|\/)wasm-node\.js$/ }, () => ({ path: "wasm-node", namespace: "xait-stub" }));
    b.onLoad({ filter: /.*/, namespace: "xait-stub" }, () => ({
      contents:
        'export function createNodeWasmBackend() { throw new Error("the Node wasm loader is not in the page bundle"); }',
      loader: "js",
    }));
  },
};

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    page: "src/app/page.ts",
    engine: "src/app/engine.ts",
    "browser-worker": "src/tensor/wasm/browser-worker.ts",
  },
  outdir: outDir,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  plugins: [nodeLoaderStub],
});
await copyFile(path.join(here, "index.html"), path.join(outDir, "index.html"));
await copyFile(path.join(here, "app.css"), path.join(outDir, "app.css"));
let kernels = [];
try {
  kernels = (await readdir(kernelsDir)).filter((f) => f.endsWith(".wasm"));
} catch {
  // reported below
}
if (kernels.length === 0) {
  process.stderr.write(`${kernelsDir}: no kernels; run \`npm run build:wasm\` first\n`);
  process.exit(1);
}
for (const f of kernels) await copyFile(path.join(kernelsDir, f), path.join(outDir, f));
