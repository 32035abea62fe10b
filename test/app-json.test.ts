/**
 * The page's JSON download is the object `xait explain --json` prints: the page builds it without
 * Node (src/app/json.ts), so it is checked against the command line's own `toJSON`, with and without
 * a text pair, and through a JSON round trip as the file is written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { explanationJSON } from "../src/app/json.js";
import { toJSON } from "../src/cli/explain.js";
import { exampleExplanation } from "./helpers/example-explanation.js";

test("the page's JSON is xait explain --json's object", () => {
  for (const e of [
    exampleExplanation(),
    exampleExplanation({ pair: "a second text", target: 0, label: "negative" }),
  ]) {
    const page = explanationJSON(e);
    assert.deepEqual(page, toJSON(e));
    assert.equal(JSON.stringify(page), JSON.stringify(toJSON(e)), "same keys in the same order");
    assert.deepEqual(Object.keys(page).includes("pair"), e.pair !== undefined);
    assert.equal((page.explanations as Record<string, { layers?: number[] }>).lrp!.layers!.length, 4);
  }
});
