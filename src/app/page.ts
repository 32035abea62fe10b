/**
 * The explainer page: pick a bundled model or open a model folder from disk, type a text (or a text
 * pair), pick methods, and see the prediction and one heatmap per method. The work runs in the engine
 * worker (engine.ts); this thread only builds the DOM, so long explanations never freeze the page.
 * Nothing leaves the page: model files are read locally or fetched from the page's own origin.
 */
import type { Explanation } from "../explain/result.js";
import { renderHtml } from "../report/html.js";
import { explanationJSON, generationJSON } from "../report/json.js";
import type { EngineMessage, EngineRequest, ExplainedMessage, ModelKind } from "./protocol.js";
import { classifierView, el } from "./view.js";

/**
 * One view per kind of model: a classifier's prediction, a causal language model's next token (the
 * step-by-step view of generation is not in the page yet).
 */
const VIEWS: Record<ModelKind, (m: ExplainedMessage) => HTMLElement[]> = {
  classifier: (m) => classifierView(m.result),
  "causal-lm": (m) =>
    m.generation
      ? [
          el(
            "p",
            { class: "generated" },
            "Generated: ",
            el("b", { class: "generated-text" }, JSON.stringify(m.generation.generatedText)),
          ),
          ...m.generation.steps.flatMap((step, s) => [
            el("h3", {}, `Step ${s + 1}`),
            ...classifierView(step),
          ]),
        ]
      : classifierView(m.result),
};

const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
};

const ui = {
  engine: $("engine"),
  select: $<HTMLSelectElement>("model-select"),
  folder: $<HTMLInputElement>("folder-input"),
  drop: $("drop"),
  modelStatus: $("model-status"),
  text: $<HTMLTextAreaElement>("text"),
  pair: $<HTMLTextAreaElement>("pair"),
  generate: $<HTMLInputElement>("generate"),
  generateChoice: $("generate-choice"),
  methods: $("methods"),
  explain: $<HTMLButtonElement>("explain"),
  progress: $<HTMLProgressElement>("progress"),
  progressText: $("progress-text"),
  error: $("error"),
  result: $("result"),
};

/** Methods ticked when the page opens. */
const DEFAULT_METHODS = ["lrp", "attnlrp", "gi"];

const pageParams = new URL(location.href).searchParams;
const engineUrl = new URL("engine.js", import.meta.url);
const threads = pageParams.get("threads");
if (threads !== null) engineUrl.searchParams.set("threads", threads);
const engine = new Worker(engineUrl, { type: "module" });

let nextId = 1;
/** The request whose answer the page waits for (older answers are ignored). */
let pending: { id: number; kind: "load" | "explain" } | null = null;
let modelName: string | null = null;
let modelKind: ModelKind | null = null;
let downloads: string[] = [];

function send(request: EngineRequest): void {
  engine.postMessage(request);
}

function setBusy(message: string | null, fraction?: number): void {
  document.body.dataset.busy = message === null ? "false" : "true";
  ui.progress.hidden = message === null;
  if (fraction === undefined) ui.progress.removeAttribute("value");
  else ui.progress.value = fraction;
  ui.progressText.textContent = message ?? "";
  ui.explain.disabled = message !== null || modelName === null;
}

function showError(message: string | null): void {
  ui.error.hidden = message === null;
  ui.error.textContent = message === null ? "" : `error: ${message}`;
}

function loadBundled(name: string): void {
  const id = nextId++;
  pending = { id, kind: "load" };
  modelName = null;
  showError(null);
  setBusy(`loading models/${name}`, 0);
  send({ type: "load-url", id, name: `models/${name}`, base: `models/${encodeURIComponent(name)}/` });
}

function loadFiles(name: string, files: File[]): void {
  const id = nextId++;
  pending = { id, kind: "load" };
  modelName = null;
  showError(null);
  ui.select.value = "";
  setBusy(`loading ${name}`, 0);
  send({ type: "load-files", id, name, files });
}

function selectedMethods(): string[] {
  return Array.from(
    ui.methods.querySelectorAll<HTMLInputElement>("input[type=checkbox]:checked"),
    (c) => c.value,
  );
}

function runExplain(): void {
  if (pending !== null || modelName === null) return;
  const id = nextId++;
  pending = { id, kind: "explain" };
  showError(null);
  setBusy("explaining");
  const pair = ui.pair.value;
  const steps =
    modelKind === "causal-lm" ? Math.max(0, Math.min(64, Math.floor(Number(ui.generate.value) || 0))) : 0;
  send({
    type: "explain",
    id,
    text: ui.text.value,
    ...(pair.trim() ? { pair } : {}),
    methods: selectedMethods(),
    ...(steps > 0 ? { generate: steps } : {}),
  });
}

/** The `xait explain` command that gives the same result in Node. */
function equivalentCommand(r: Explanation, generated?: number, prompt?: string): string {
  const args = ["xait", "explain", "--model", r.model, "--method", Object.keys(r.explanations).join(",")];
  if (r.pair !== undefined) args.push("--pair", r.pair);
  if (generated !== undefined) args.push("--generate", String(generated), "--json", prompt ?? r.text);
  else args.push("--json", r.text);
  return args.map((a) => (/^[\w./=,-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

function download(name: string, type: string, content: string): HTMLElement {
  const url = URL.createObjectURL(new Blob([content], { type }));
  downloads.push(url);
  return el("a", { href: url, download: name, class: "download" }, name);
}

function showResult(m: ExplainedMessage): void {
  for (const url of downloads) URL.revokeObjectURL(url);
  downloads = [];
  const r = m.result;
  const g = m.generation;
  const command = g ? equivalentCommand(r, g.steps.length, r.text) : equivalentCommand(r);
  const json = JSON.stringify(g ? generationJSON(g) : explanationJSON(r));
  ui.result.replaceChildren(
    el("h2", {}, "Explanation"),
    el("blockquote", { class: "input" }, r.text),
    ...(r.pair !== undefined ? [el("blockquote", { class: "input" }, r.pair)] : []),
    ...m.warnings.map((w) => el("p", { class: "warning" }, `warning: ${w}`)),
    ...VIEWS[m.kind](m),
    el(
      "p",
      { class: "downloads" },
      "Download: ",
      download("explanation.json", "application/json", json + "\n"),
      " · ",
      download("report.html", "text/html", renderHtml(g ? g.steps : r, { command, model: r.model })),
      ` · ${m.ms.toFixed(0)} ms in this page · same as `,
      el("code", {}, command),
    ),
  );
  ui.result.dataset.status = "done";
}

engine.onmessage = (e: MessageEvent<EngineMessage>) => {
  const m = e.data;
  if (m.type === "ready") {
    const b = m.backend;
    const threadsText = `${b.threads} thread${b.threads === 1 ? "" : "s"}`;
    const why = m.crossOriginIsolated
      ? "the page is cross-origin isolated"
      : "the page is not cross-origin isolated (serve it with `xait serve` for threads)";
    ui.engine.textContent =
      `Engine: ${b.name === "wasm" ? "WebAssembly SIMD" : b.name}, ${threadsText}; ${why}` +
      (b.fallback ? ` — fell back to plain JavaScript: ${b.fallback}` : "");
    ui.engine.dataset.backend = b.name;
    ui.engine.dataset.threads = String(b.threads);
    ui.engine.dataset.isolated = String(m.crossOriginIsolated);
    ui.engine.dataset.ms = m.ms.toFixed(1);
    ui.methods.replaceChildren(
      ...m.methods.map((id) => {
        const box = el("input", { type: "checkbox", value: id, name: "method" }) as HTMLInputElement;
        box.checked = DEFAULT_METHODS.includes(id);
        return el("label", { class: "method-choice" }, box, ` ${id}`);
      }),
    );
    return;
  }
  if (pending === null || m.id !== pending.id) {
    if (m.type === "error" && m.id === 0) showError(m.message);
    return;
  }
  if (m.type === "progress") {
    setBusy(m.message, m.fraction);
    return;
  }
  pending = null;
  if (m.type === "error") {
    showError(m.message);
    if (modelName === null) ui.modelStatus.textContent = "no model loaded";
  } else if (m.type === "loaded") {
    modelName = m.name;
    modelKind = m.kind;
    ui.generateChoice.hidden = m.kind !== "causal-lm";
    ui.modelStatus.textContent = `${m.name}: ${m.modelType}, ${m.kind === "causal-lm" ? "a language model (explains the next token)" : `classes ${m.labels.join(", ")}`} (loaded in ${m.ms.toFixed(0)} ms)`;
    ui.modelStatus.dataset.model = m.name;
    for (const w of m.warnings) ui.modelStatus.append(el("br"), `warning: ${w}`);
  } else if (m.type === "explained") {
    showResult(m);
  }
  setBusy(null);
};

engine.onerror = (e) => {
  pending = null;
  showError(`the engine stopped: ${e.message}`);
  setBusy(null);
};

/** The top-level files of a dropped folder (or the dropped files themselves). */
async function droppedFiles(data: DataTransfer): Promise<{ name: string; files: File[] }> {
  const entries = Array.from(data.items, (i) => i.webkitGetAsEntry()).filter((x) => x !== null);
  const dir = entries.find((x) => x.isDirectory) as FileSystemDirectoryEntry | undefined;
  if (!dir) return { name: "dropped files", files: Array.from(data.files) };
  const reader = dir.createReader();
  const children: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const files = await Promise.all(
    children
      .filter((c) => c.isFile)
      .map((c) => new Promise<File>((res, rej) => (c as FileSystemFileEntry).file(res, rej))),
  );
  return { name: dir.name, files };
}

ui.select.addEventListener("change", () => {
  if (ui.select.value) loadBundled(ui.select.value);
});
ui.folder.addEventListener("change", () => {
  const files = Array.from(ui.folder.files ?? []);
  if (files.length === 0) return;
  // a picked folder: its name, and only the files directly inside it
  const top = files[0]!.webkitRelativePath.split("/")[0] || "picked files";
  const direct = files.filter((f) => f.webkitRelativePath.split("/").length <= 2);
  loadFiles(top, direct);
  ui.folder.value = "";
});
for (const type of ["dragenter", "dragover"])
  ui.drop.addEventListener(type, (e) => {
    e.preventDefault();
    ui.drop.classList.add("over");
  });
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  if (!e.dataTransfer) return;
  droppedFiles(e.dataTransfer).then(
    ({ name, files }) => loadFiles(name, files),
    (err: unknown) => showError(`cannot read the dropped files: ${String(err)}`),
  );
});
ui.explain.addEventListener("click", runExplain);
for (const box of [ui.text, ui.pair])
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) runExplain();
  });

/** The bundled models: `models/index.json` beside the page (written by `xait serve`; absent on a bare static host). */
async function listModels(): Promise<void> {
  let list: { models: string[]; default?: string } = { models: [] };
  try {
    const response = await fetch("models/index.json");
    if (response.ok) list = (await response.json()) as typeof list;
  } catch {
    // no list: only a folder from disk
  }
  const names = Array.isArray(list.models) ? list.models.filter((n) => typeof n === "string") : [];
  ui.select.replaceChildren(
    el("option", { value: "" }, names.length ? "— choose —" : "(none served: open a folder)"),
    ...names.map((n) => el("option", { value: n }, n)),
  );
  const first = pageParams.get("model") ?? list.default ?? names[0];
  if (first !== undefined && names.includes(first)) {
    ui.select.value = first;
    loadBundled(first);
  } else {
    ui.modelStatus.textContent = "no model loaded: open a model folder";
  }
}

setBusy(null);
void listModels();
