/** The model families xait reads, one line each. */
import type { Family } from "../family.js";
import { bert } from "./bert.js";
import { distilbert } from "./distilbert.js";
import { gpt2 } from "./gpt2.js";
import { llama } from "./llama.js";
import { xaiTransformer } from "./xai-transformer.js";

export const FAMILIES: readonly Family[] = [bert, distilbert, xaiTransformer, gpt2, llama];
