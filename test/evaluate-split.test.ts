import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLabelledFile } from "../src/cli/evaluate-common.js";
import { splitDataset } from "../src/train/data.js";
import { readDatasetFile } from "../src/train/data-node.js";
import { tinyModel } from "./helpers/tiny-models.js";

test("--validation-fraction evaluates exactly the part that xait train held out", () => {
  const file = join(mkdtempSync(join(tmpdir(), "xait-split-")), "d.tsv");
  const words = ["good", "bad", "movie", "film", "very", "not"];
  const rows = Array.from({ length: 20 }, (_, i) => `${words[i % 6]} ${words[(i * 5) % 6]} ${i}\t${i % 2}`);
  writeFileSync(file, ["sentence\tlabel", ...rows].join("\n") + "\n");
  const model = tinyModel("bert", 1);
  const { samples } = readLabelledFile(model, { data: file, "validation-fraction": "0.25", seed: "7" });
  const held = splitDataset(readDatasetFile(file).examples, 0.25, 7).validation;
  assert.equal(samples.length, 5);
  assert.deepEqual(
    samples.map((s) => s.text),
    held.map((e) => e.text),
  );
  assert.deepEqual(
    samples.map((s) => s.label),
    held.map((e) => Number(e.label)),
  );
  assert.equal(readLabelledFile(model, { data: file }).samples.length, 20);
});
