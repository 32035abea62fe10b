export * from "./config.js";
export * from "./architecture.js";
export * from "./sites.js";
export * from "./family.js";
export { MODEL_TYPES, familyOf, parseConfig, configFromObject, configToJSON } from "./registry.js";
export * from "./model.js";
export * from "./batch.js";
export * from "./folder.js";
export { readSafetensors, writeSafetensors } from "./safetensors.js";
