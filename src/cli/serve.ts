/**
 * `xait serve`: a static server for the explainer page and the model folders, on loopback by
 * default, with the cross-origin isolation headers (COOP/COEP) that let the page's engine run on
 * threads. It answers only for the page's own files and for files directly inside the model folders
 * under --models; anything else — `..`, its percent-encodings, absolute paths, a symlink leading out
 * of its folder, a directory — is 404. It lists no directory except the model names
 * (`/models/index.json`).
 */
import { createReadStream, existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { XaitError, usageError } from "../errors.js";
import { registerCommand } from "./commands.js";
import { flagHelp, parseFlags, type FlagTable } from "./flags.js";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The page's static folder (built by `npm run build:app`) and the bundled models, from dist/src/cli/. */
const APP_DIR = resolve(HERE, "../../app");
const BUNDLED_MODELS = resolve(HERE, "../../../models");
/** Model preselected by the page when present. */
const DEFAULT_MODEL_NAME = "sst2-bert";
const DEFAULT_PORT = 8177;

export const SERVE_FLAGS = {
  port: {
    kind: "number",
    value: "N",
    integer: true,
    min: 0,
    max: 65535,
    default: DEFAULT_PORT,
    help: "port (0 picks a free one)",
  },
  host: {
    kind: "string",
    value: "ADDR",
    default: "127.0.0.1",
    help: "address to listen on (this machine only)",
  },
  models: { kind: "string", value: "DIR", help: "folder of model folders (default: the bundled models)" },
} as const satisfies FlagTable;

const HELP = `Usage: xait serve [--port N] [--host ADDR] [--models DIR]

Serve the explainer page: explanations computed in the browser (a Web Worker running the wasm
kernels, on threads: the server sends the cross-origin isolation headers), nothing computed or kept
on the server. The page offers the model folders under --models and any folder opened from disk.
Only the page's files and files directly inside those model folders are served. Ctrl-C stops it.

Options:
${flagHelp(SERVE_FLAGS, 16)}

Examples:
  xait serve
  xait serve --port 0 --models ~/models`;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
  ".safetensors": "application/octet-stream",
};

/** Headers of every answer: cross-origin isolation (threads), same-origin resources only, no sniffing. */
const HEADERS: Record<string, string> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; " +
    "style-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
};

/** A name of one path segment: no separators, no `.`/`..`, nothing hidden. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** The path segments of a request target, decoded; null when it could lead anywhere unexpected. */
export function requestSegments(target: string): string[] | null {
  if (!target.startsWith("/")) return null;
  const path = target.split(/[?#]/, 1)[0]!;
  const raw = path.slice(1).split("/");
  const out: string[] = [];
  for (const s of raw) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return null;
    }
    if (!SAFE_NAME.test(d)) return null;
    out.push(d);
  }
  return out;
}

/** `file` inside `folder`, following symlinks, or null when it is not a regular file within the folder. */
function fileWithin(folder: string, name: string): string | null {
  const candidate = join(folder, name);
  try {
    const real = realpathSync(candidate);
    const realFolder = realpathSync(folder);
    if (!real.startsWith(realFolder + sep)) return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** The model folders under `modelsDir`: subfolders (not leaving it) that hold a config.json. */
export function modelNames(modelsDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(modelsDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => SAFE_NAME.test(n))
    .filter((n) => {
      const dir = modelFolder(modelsDir, n);
      return dir !== null && fileWithin(dir, "config.json") !== null;
    })
    .sort();
}

/** The real path of model folder `name` under `modelsDir`, or null. */
function modelFolder(modelsDir: string, name: string): string | null {
  try {
    const real = realpathSync(join(modelsDir, name));
    if (!real.startsWith(realpathSync(modelsDir) + sep)) return null;
    return statSync(real).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

export interface ServeOptions {
  appDir: string;
  modelsDir: string;
}

/** What a request target maps to: a file to send, the model list, or nothing (404). */
export function resolveTarget(
  target: string,
  opts: ServeOptions,
): { file: string } | { models: string[] } | null {
  const path = target.split(/[?#]/, 1)[0]!;
  const segments = requestSegments(path === "/" ? "/index.html" : path);
  if (segments === null) return null;
  if (segments.length === 1) {
    const file = fileWithin(opts.appDir, segments[0]!);
    return file === null ? null : { file };
  }
  if (segments[0] !== "models") return null;
  if (segments.length === 2 && segments[1] === "index.json") return { models: modelNames(opts.modelsDir) };
  if (segments.length !== 3) return null;
  const folder = modelFolder(opts.modelsDir, segments[1]!);
  if (folder === null) return null;
  const file = fileWithin(folder, segments[2]!);
  return file === null ? null : { file };
}

function answer(req: IncomingMessage, res: ServerResponse, opts: ServeOptions): void {
  for (const [k, v] of Object.entries(HEADERS)) res.setHeader(k, v);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" });
    res.end("method not allowed\n");
    return;
  }
  const found = resolveTarget(req.url ?? "", opts);
  if (found === null) {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("not found\n");
    return;
  }
  if ("models" in found) {
    const names = found.models;
    const body = JSON.stringify({
      models: names,
      ...(names.includes(DEFAULT_MODEL_NAME) ? { default: DEFAULT_MODEL_NAME } : {}),
    });
    res.writeHead(200, { "Content-Type": TYPES[".json"]!, "Content-Length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  const size = statSync(found.file).size;
  res.writeHead(200, {
    "Content-Type": TYPES[extname(found.file)] ?? "application/octet-stream",
    "Content-Length": size,
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const stream = createReadStream(found.file);
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(SERVE_FLAGS, argv);
  const { port, host } = values;
  const modelsDir = resolve(values.models ?? BUNDLED_MODELS);
  if (!existsSync(modelsDir) || !statSync(modelsDir).isDirectory())
    throw usageError(`--models ${values.models ?? modelsDir}: not a folder`);
  if (!existsSync(join(APP_DIR, "index.html")))
    throw new XaitError(`${APP_DIR}: the page is not built; run \`npm run build\``);
  const opts: ServeOptions = { appDir: APP_DIR, modelsDir };
  const server = createServer((req, res) => answer(req, res, opts));
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      fail(
        new XaitError(
          e.code === "EADDRINUSE"
            ? `--port ${port}: already in use on ${host} (try --port 0)`
            : `cannot listen on ${host}:${port}: ${e.message}`,
        ),
      ),
    );
    server.listen(port, host, () => ok());
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const models = modelNames(modelsDir);
  process.stdout.write(`xait serve: open http://${shownHost}:${actual}/ (Ctrl-C to stop)\n`);
  process.stderr.write(`models from ${modelsDir}: ${models.length ? models.join(", ") : "none"}\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.close(() => done());
      server.closeAllConnections();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  process.stderr.write("xait serve: stopped\n");
  return 0;
}

registerCommand({
  name: "serve",
  summary: "serve the explainer page (explanations computed in the browser)",
  help: HELP,
  run,
});
