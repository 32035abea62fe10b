/**
 * The true class of a labelled example in the model's own class ids: data labels are names
 * ("positive") or integers ("1"); a model knows its classes by `id2label`. Names are matched as
 * spelt, then case-insensitively; an integer label that is no class name is taken as the class id
 * itself (SST-2 and IMDB label 0/1 → the model's classes 0/1).
 */
import { XaitError } from "../errors.js";
import type { TransformerModel } from "../models/index.js";
import { mapLabels, type Example } from "../train/data.js";

/** The model's label2id, built from its class labels in index order. */
export function modelLabel2id(model: TransformerModel): Record<string, number> {
  return Object.fromEntries(model.config.labels.map((l, i) => [l, i]));
}

/** Class ids of the examples' labels under the model's labels (an unknown label is an error naming it). */
export function labelIds(model: TransformerModel, examples: readonly Pick<Example, "label">[]): number[] {
  const asExamples = examples.map((e) => ({ text: "", label: e.label }));
  return mapLabels(asExamples, modelLabel2id(model)).ids;
}

/**
 * The class id of a class named `name` (e.g. "positive"), matched case-insensitively against the
 * model's labels; `fallback` is used when no label has that name and the model has exactly
 * `fallbackClasses` classes (a binary model with labels LABEL_0/LABEL_1: negative = 0, positive = 1).
 */
export function classByName(
  model: TransformerModel,
  name: string,
  fallback?: { id: number; classes: number },
): number {
  const labels = model.config.labels;
  const i = labels.findIndex((l) => l.toLowerCase() === name.toLowerCase());
  if (i >= 0) return i;
  if (fallback && labels.length === fallback.classes) return fallback.id;
  throw new XaitError(
    `the model has no class named '${name}' (classes: ${labels.map((l, k) => `${k}=${l}`).join(", ")})`,
  );
}

/** A text (or text pair) with its true class as the model's class id: the input of the evaluations. */
export interface LabelledText {
  text: string;
  pair?: string;
  label: number;
}

/** Checks that every label is one of the model's classes. */
export function checkLabels(model: TransformerModel, samples: readonly LabelledText[]): void {
  const n = model.numLabels;
  samples.forEach((s, i) => {
    if (!Number.isInteger(s.label) || s.label < 0 || s.label >= n)
      throw new XaitError(`sample ${i + 1}: label ${s.label} is not one of the model's ${n} classes`);
  });
}
