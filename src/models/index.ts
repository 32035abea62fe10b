export * from "./config.js";
export * from "./layout.js";
export * from "./model.js";
export * from "./batch.js";
export * from "./folder.js";
export { readSafetensors, writeSafetensors } from "./safetensors.js";
