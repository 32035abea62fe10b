/**
 * The messages between the page and its engine (a module Web Worker that holds the model and runs the
 * explanations). Every request carries an `id`; the engine answers it with progress messages, then one
 * result or one error. Requests are served one at a time, in the order sent.
 */
import type { Generation } from "../explain/generate.js";
import type { Explanation } from "../explain/result.js";
import type { BackendInfo } from "../tensor/backends.js";

/** A model folder served beside the page (`base` ends with "/": `models/sst2-bert/`). */
export interface LoadUrlRequest {
  type: "load-url";
  id: number;
  name: string;
  base: string;
}

/** A model folder picked or dropped by the user: its files, read in the engine. */
export interface LoadFilesRequest {
  type: "load-files";
  id: number;
  name: string;
  files: File[];
}

export interface ExplainRequest {
  type: "explain";
  id: number;
  text: string;
  pair?: string;
  methods: string[];
  /** A language model: greedily generate this many tokens and explain each (0 or absent: the next token). */
  generate?: number;
}

export type EngineRequest = LoadUrlRequest | LoadFilesRequest | ExplainRequest;

/** The engine is up: the methods it offers and the kernel backend it runs on. */
export interface ReadyMessage {
  type: "ready";
  methods: string[];
  backend: BackendInfo;
  crossOriginIsolated: boolean;
  /** Time to fetch and compile the kernels and start the threads. */
  ms: number;
}

export interface ProgressMessage {
  type: "progress";
  id: number;
  message: string;
  /** Share done, 0…1, when known. */
  fraction?: number;
}

/** The kind of model: what the page shows for it. */
export type ModelKind = "classifier" | "causal-lm";

export interface LoadedMessage {
  type: "loaded";
  id: number;
  name: string;
  kind: ModelKind;
  modelType: string;
  labels: string[];
  warnings: string[];
  ms: number;
}

export interface ExplainedMessage {
  type: "explained";
  id: number;
  kind: ModelKind;
  /** The explanation; with generation, that of the first generated token. */
  result: Explanation;
  /** Generation: the generated tokens and one explanation per generated token. */
  generation?: Generation;
  warnings: string[];
  ms: number;
}

export interface ErrorMessage {
  type: "error";
  id: number;
  /** One line, worded like the command line's `error:` messages. */
  message: string;
}

export type EngineMessage = ReadyMessage | ProgressMessage | LoadedMessage | ExplainedMessage | ErrorMessage;
