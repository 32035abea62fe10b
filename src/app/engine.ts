/**
 * The page's engine: a module Web Worker that installs the wasm kernel backend (threads when the page
 * is cross-origin isolated), loads a model folder and explains texts with the same library calls as
 * `xait explain`, so that the page never freezes and its numbers are Node's. Messages: protocol.ts.
 */
import { XaitError } from "../errors.js";
import { explain } from "../explain/explain.js";
import { generate } from "../explain/generate.js";
import { METHOD_IDS } from "../explain/registry.js";
import type { Explanation } from "../explain/result.js";
import { modelFromFiles } from "../models/folder.js";
import type { TransformerModel } from "../models/model.js";
import { backendInfo, initBackend } from "../tensor/backends.js";
import { fileFolder, readModelFolder, urlFolder, type FolderSource } from "./folder.js";
import type { EngineMessage, EngineRequest, ExplainRequest } from "./protocol.js";

interface WorkerScope {
  onmessage: ((e: MessageEvent<EngineRequest>) => void) | null;
  postMessage(message: EngineMessage): void;
  location: { href: string };
  crossOriginIsolated?: boolean;
}

const scope = globalThis as unknown as WorkerScope;
const post = (m: EngineMessage): void => scope.postMessage(m);

let model: { name: string; model: TransformerModel } | null = null;

/** One line, as the command line prints it after `error: `. */
function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0] || "unknown error";
}

async function start(): Promise<void> {
  const t0 = performance.now();
  const asked = new URL(scope.location.href).searchParams.get("threads");
  const threads = asked !== null && /^[1-9]\d*$/.test(asked) ? Number(asked) : undefined;
  await initBackend({ threads });
  post({
    type: "ready",
    methods: [...METHOD_IDS],
    backend: backendInfo(),
    crossOriginIsolated: scope.crossOriginIsolated === true,
    ms: performance.now() - t0,
  });
}

async function load(id: number, source: FolderSource): Promise<void> {
  const t0 = performance.now();
  model = null;
  post({ type: "progress", id, message: `reading ${source.name}`, fraction: 0 });
  const files = await readModelFolder(source, (f) =>
    post({ type: "progress", id, message: `reading ${source.name}/model.safetensors`, fraction: f }),
  );
  post({ type: "progress", id, message: `building the model` });
  const warnings: string[] = [];
  let built: TransformerModel;
  try {
    built = modelFromFiles(files, (w) => warnings.push(w));
  } catch (e) {
    // the command line names the folder the same way (loadModel in Node)
    if (e instanceof XaitError) throw new XaitError(`${source.name}: ${e.message}`, e.exitCode);
    throw e;
  }
  model = { name: source.name, model: built };
  post({
    type: "loaded",
    id,
    name: source.name,
    kind: built.config.task === "causal-lm" ? "causal-lm" : "classifier",
    modelType: built.config.modelType,
    labels: [...built.config.labels],
    warnings,
    ms: performance.now() - t0,
  });
}

/** The methods one at a time (each is independent of the others), so that progress can be shown. */
function run(request: ExplainRequest): void {
  const { id, text, pair, methods } = request;
  if (request.generate) return runGeneration(request);
  if (!model) throw new XaitError("no model loaded: pick a model first");
  if (methods.length === 0) throw new XaitError("no method given: tick at least one method");
  const t0 = performance.now();
  const warnings: string[] = [];
  const input: string | [string, string] = pair !== undefined && pair.trim() !== "" ? [text, pair] : text;
  let result: Explanation | null = null;
  methods.forEach((method, k) => {
    post({
      type: "progress",
      id,
      message: `${method} (${k + 1}/${methods.length})`,
      fraction: k / methods.length,
    });
    const one = explain(model!.model, input, {
      methods: [method],
      modelName: model!.name,
      warn: (w) => warnings.push(w),
    });
    if (result === null) result = one;
    else result.explanations[method] = one.explanations[method]!;
  });
  post({
    type: "explained",
    id,
    kind: model.model.config.task === "causal-lm" ? "causal-lm" : "classifier",
    result: result!,
    warnings: [...new Set(warnings)],
    ms: performance.now() - t0,
  });
}

/** Greedy generation, every generated token explained over the tokens before it (as `xait explain --generate`). */
function runGeneration(request: ExplainRequest): void {
  const { id, text, methods } = request;
  if (!model) throw new XaitError("no model loaded: pick a model first");
  if (methods.length === 0) throw new XaitError("no method given: tick at least one method");
  const t0 = performance.now();
  const warnings: string[] = [];
  post({ type: "progress", id, message: `generating ${request.generate} token(s)` });
  const g = generate(model.model, text, request.generate!, {
    methods,
    modelName: model.name,
    warn: (w) => warnings.push(w),
  });
  post({
    type: "explained",
    id,
    kind: "causal-lm",
    result: g.steps[0]!,
    generation: g,
    warnings: [...new Set(warnings)],
    ms: performance.now() - t0,
  });
}

async function handle(request: EngineRequest): Promise<void> {
  try {
    if (request.type === "load-url")
      await load(request.id, urlFolder(request.name, new URL(request.base, scope.location.href)));
    else if (request.type === "load-files") await load(request.id, fileFolder(request.name, request.files));
    else run(request);
  } catch (e) {
    post({ type: "error", id: request.id, message: oneLine(e) });
  }
}

// requests run one after another, after the backend is up
let queue: Promise<void> = start().catch((e) => post({ type: "error", id: 0, message: oneLine(e) }));
scope.onmessage = (e) => {
  queue = queue.then(() => handle(e.data));
};
