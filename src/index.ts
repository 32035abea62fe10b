/** xait — the browser-safe library: engine, models, tokenizers, explanations, evaluation, reports. */
export * from "./errors.js";
export { VERSION } from "./version.js";
export * from "./explain/index.js";
export * from "./models/index.js";
export * as tensor from "./tensor/index.js";
export * from "./tokenize/index.js";
export { initBackend, backendInfo, disposeBackend } from "./tensor/backends.js";
