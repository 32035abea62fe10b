/** Finding a model's family by `model_type`, and parsing config.json through it. */
import { XaitError } from "../errors.js";
import { parseJsonText } from "../json-file.js";
import { ConfigReader, type ModelConfig } from "./config.js";
import type { Family } from "./family.js";
import { FAMILIES } from "./families/index.js";

/** Every supported `model_type`. */
export const MODEL_TYPES: readonly string[] = FAMILIES.flatMap((f) => f.modelTypes);

/** The family of a model type; an unsupported one is an error that lists the supported ones. */
export function familyOf(modelType: unknown, fileName = "config.json"): Family {
  const family = FAMILIES.find((f) => typeof modelType === "string" && f.modelTypes.includes(modelType));
  if (!family)
    throw new XaitError(
      `${fileName}: unsupported model_type ${JSON.stringify(modelType) ?? "(missing)"} (supported: ${MODEL_TYPES.join(", ")})`,
    );
  return family;
}

/** Parse and check a config.json text. */
export function parseConfig(text: string, fileName = "config.json"): ModelConfig {
  return configFromObject(parseJsonText(text, fileName), fileName);
}

/** Check a parsed config.json object. */
export function configFromObject(raw: unknown, fileName = "config.json"): ModelConfig {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new XaitError(`${fileName}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  const type = obj.model_type;
  const cfg = familyOf(type, fileName).readConfig(new ConfigReader(obj, fileName), type as string);
  if (cfg.task === "classification" && cfg.labels.length < 1)
    throw new XaitError(`${fileName}: the model has no classes`);
  return cfg;
}

/** The config.json object for a config (Hugging Face keys). */
export function configToJSON(cfg: ModelConfig): Record<string, unknown> {
  return familyOf(cfg.modelType).configJSON(cfg);
}
