/**
 * The plan of an evaluation that explains every text of a labelled file (its true class) with the
 * chosen methods and turns each explained sample into a journal record: the perturbation and the
 * conservation evaluations, which differ only in their default methods, the `random` baseline's seed
 * per sample, and what they compute from an explained sample.
 */
import type { TransformerModel } from "../models/index.js";
import { parseRuleList } from "../models/index.js";
import { loadModel } from "../models/folder-node.js";
import { labelledInput } from "../evaluate/run-perturbation.js";
import { explainSamples, type ExplainedSample } from "../evaluate/sample-loop.js";
import {
  dataOptions,
  methodsFlag,
  readLabelledFile,
  truncationCounter,
  type DataFlags,
} from "./evaluate-common.js";
import type { EvaluationPlan } from "./evaluate-skeleton.js";
import { modelDir } from "./io.js";

export interface LabelledValues extends DataFlags {
  model?: string;
  methods?: string;
  method?: string;
  gamma: number;
  steps: number;
  rule?: string;
  seed: number;
  data?: string;
}

export function labelledPlan(
  evaluation: string,
  values: LabelledValues,
  defaultMethods: string,
  seedOf: (seed: number, index: number) => number,
  perSample: (model: TransformerModel, methods: string[], sample: ExplainedSample, label: number) => unknown,
): EvaluationPlan {
  const methods = methodsFlag(values, defaultMethods);
  const dir = modelDir(values.model);
  const model = loadModel(dir);
  const { samples } = readLabelledFile(model, values);
  const truncation = truncationCounter();
  const { gamma, steps, seed } = values;
  const rules = parseRuleList(values.rule === undefined ? [] : [values.rule]);
  return {
    name: evaluation,
    evaluation,
    total: samples.length,
    modelDir: dir,
    dataFile: values.data!,
    methods,
    seed,
    options: {
      gamma,
      steps,
      ...(Object.keys(rules).length ? { rules: JSON.stringify(rules) } : {}),
      ...dataOptions(values),
    },
    context: { model: dir, data: values.data! },
    *run(pending, block) {
      const toExplain = samples.map((s, index) => ({ index, input: labelledInput(s), target: s.label }));
      const loop = explainSamples(model, toExplain, methods, pending, {
        gamma,
        steps,
        rules,
        seedOf: (i) => seedOf(seed, i),
        block,
        warn: truncation.warn,
      });
      for (const e of loop)
        yield { index: e.index, result: perSample(model, methods, e, samples[e.index]!.label) };
    },
    finish: truncation.report,
  };
}
