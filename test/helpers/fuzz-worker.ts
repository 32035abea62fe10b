/**
 * The child side of the fuzz sandbox: runs one parser on one input and reports what came back — a
 * value, or the error's class and message. The heap of this process is capped by the sandbox, so an
 * unbounded allocation ends this process instead of the test run.
 */
import { XaitError } from "../../src/errors.js";
import { parseConfig } from "../../src/models/registry.js";
import { readSafetensors } from "../../src/models/safetensors.js";
import { tokenizerFromJSON } from "../../src/tokenize/index.js";

export type FuzzTarget = "safetensors" | "tokenizer" | "config";

export type FuzzOutcome =
  | { kind: "value"; value: unknown }
  | { kind: "error"; xait: boolean; name: string; message: string }
  | { kind: "crash"; message: string }
  | { kind: "hang" };

function run(target: FuzzTarget, input: unknown): unknown {
  if (target === "safetensors") {
    const tensors = readSafetensors(input as Uint8Array, "m.safetensors");
    return [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  }
  if (target === "tokenizer") {
    const t = tokenizerFromJSON(input as string);
    const encoded: unknown[] = [];
    for (const [text, pair] of [
      ["good movie !", undefined],
      ["the film", "not very good"],
    ] as const) {
      try {
        encoded.push(t.encode(text, pair).ids);
      } catch (e) {
        if (!(e instanceof XaitError)) throw e;
        encoded.push(e.message);
      }
    }
    return { vocabSize: t.vocabSize, special: t.special, encoded };
  }
  const c = parseConfig(input as string);
  return { modelType: c.modelType, labels: c.labels.length, layers: c.numLayers, hidden: c.hiddenSize };
}

process.on("message", ({ id, target, input }: { id: number; target: FuzzTarget; input: unknown }) => {
  let outcome: FuzzOutcome;
  try {
    outcome = { kind: "value", value: run(target, input) };
  } catch (e) {
    outcome = {
      kind: "error",
      xait: e instanceof XaitError,
      name: e instanceof Error ? e.constructor.name : typeof e,
      message: e instanceof Error ? e.message : String(e),
    };
  }
  process.send!({ id, outcome });
});
