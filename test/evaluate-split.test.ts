import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readLabelledFile } from "../src/cli/evaluate-common.js";
import { seededSubset, splitDataset } from "../src/train/data.js";
import { readDatasetFile } from "../src/train/data-node.js";
import { tinyModel } from "./helpers/tiny-models.js";
import { tempDir } from "./helpers/temp-dir.js";

test("--validation-fraction evaluates exactly the part that xait train held out", () => {
  const file = join(tempDir("xait-split-"), "d.tsv");
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

test("--sample N: a fixed seeded subset in file order; --limit and --sample together are refused", () => {
  const file = join(tempDir("xait-sample-"), "d.tsv");
  const rows = Array.from({ length: 50 }, (_, i) => `text number ${i}\t${i < 25 ? 0 : 1}`);
  writeFileSync(file, ["sentence\tlabel", ...rows].join("\n") + "\n");
  const model = tinyModel("bert", 1);
  const pick = (seed: string) =>
    readLabelledFile(model, { data: file, sample: "10", seed }).samples.map((s) =>
      Number(s.text.split(" ")[2]),
    );
  const a = pick("3");
  assert.equal(a.length, 10);
  assert.equal(new Set(a).size, 10);
  assert.deepEqual(
    a,
    [...a].sort((x, y) => x - y),
    "file order",
  );
  assert.deepEqual(pick("3"), a, "same seed, same subset");
  assert.notDeepEqual(pick("4"), a, "another seed, another subset");
  assert.ok(a.some((i) => i < 25) && a.some((i) => i >= 25), "drawn from the whole file");
  assert.deepEqual(seededSubset([1, 2, 3], 5, 1).chosen, [1, 2, 3]);
  assert.throws(
    () => readLabelledFile(model, { data: file, sample: "10", limit: "5" }),
    /--limit N or --sample N, not both/,
  );
});
