// Compiles the AssemblyScript kernels (src/tensor/wasm/kernels/*.as) to WebAssembly: a SIMD128 build and
// a relaxed-SIMD build whose multiply-adds are fused (the loader picks one at run time), each for a
// shared memory (threads) and, for pages that are not cross-origin isolated, an unshared one.
// The kernel sources end in .as so that tsc, which compiles src/**/*.ts, leaves them alone; the compiler
// is handed them under their .ts name.
//
//   node src/tensor/wasm/build.mjs [outRoot=dist] [--wat]
//
// writes <outRoot>/src/tensor/wasm/kernels{,-relaxed}{,-unshared}.wasm (beside the compiled loader).
import asc from "assemblyscript/asc";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const wat = args.includes("--wat");
const outRoot = path.resolve(args.find((a) => !a.startsWith("--")) ?? "dist");
const outDir = path.join(outRoot, "src/tensor/wasm");
const entry = path.join(here, "kernels/index.ts");

/** Largest memory the kernels may be given (64 KiB pages): 4 GiB, the wasm32 limit. */
const MAX_PAGES = 65536;

async function readSource(filename, baseDir) {
  const full = path.resolve(baseDir, filename);
  for (const candidate of [full.replace(/\.ts$/, ".as"), full]) {
    try {
      return await readFile(candidate, "utf8");
    } catch {
      // try the next spelling
    }
  }
  return null;
}

async function build(name, features, shared) {
  const outFile = path.join(outDir, `${name}.wasm`);
  const argv = [
    entry,
    "--outFile",
    outFile,
    ...(wat ? ["--textFile", path.join(outDir, `${name}.wat`)] : []),
    "-O3",
    "--noAssert",
    "--runtime",
    "stub",
    "--importMemory",
    "--noExportMemory",
    ...(shared ? ["--sharedMemory"] : []),
    "--initialMemory",
    "1",
    "--maximumMemory",
    String(MAX_PAGES),
    "--enable",
    features.join(","),
  ];
  const result = await asc.main(argv, { readFile: readSource });
  if (result.error) {
    process.stderr.write(result.stderr.toString());
    throw new Error(`build-wasm: ${name}: ${result.error.message}`);
  }
}

await mkdir(outDir, { recursive: true });
await build("kernels", ["simd", "threads"], true);
await build("kernels-relaxed", ["simd", "threads", "relaxed-simd"], true);
await build("kernels-unshared", ["simd"], false);
await build("kernels-relaxed-unshared", ["simd", "relaxed-simd"], false);
