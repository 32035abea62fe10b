import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { XaitError } from "../src/errors.js";
import {
  csvRecords,
  formatFromFileName,
  labelSet,
  mapLabels,
  parseDataset,
  splitDataset,
  type Example,
} from "../src/train/data.js";
import { dataFolder, readDatasetFile } from "../src/train/data-node.js";
import { DATA, noData } from "./helpers/shared-data.js";

const ex = (label: string): Example => ({ text: "t", label });

test("format from the file extension", () => {
  assert.equal(formatFromFileName("a/train.tsv"), "tsv");
  assert.equal(formatFromFileName("X.CSV"), "csv");
  assert.equal(formatFromFileName("imdb.jsonl"), "jsonl");
  assert.equal(formatFromFileName("d.json"), "jsonl");
  assert.throws(() => formatFromFileName("d.txt"), XaitError);
});

test("CSV: quotes, doubled quotes, commas and newlines inside quotes, empty fields, CRLF", () => {
  const text = 'a,b,c\r\n"x, y","say ""hi""",\r\n"multi\nline",,"z"\r\nplain,"",q';
  const records = csvRecords(text);
  assert.deepEqual(records, [
    { line: 1, fields: ["a", "b", "c"] },
    { line: 2, fields: ["x, y", 'say "hi"', ""] },
    { line: 3, fields: ["multi\nline", "", "z"] },
    { line: 5, fields: ["plain", "", "q"] },
  ]);
});

test("CSV: blank lines skipped, trailing newline, quote inside an unquoted field kept", () => {
  assert.deepEqual(csvRecords('a,b\n\nx"y,2\n'), [
    { line: 1, fields: ["a", "b"] },
    { line: 3, fields: ['x"y', "2"] },
  ]);
  // A lone CR is an ordinary character.
  assert.deepEqual(csvRecords("a\rb,c"), [{ line: 1, fields: ["a\rb", "c"] }]);
});

test("CSV: malformed records report the line where they start and parsing resumes", () => {
  const records = csvRecords('h1,h2\n"ok",1\n"bad"x,2\n"a\nb",3\n"never closed,4\nlast,5\n');
  assert.deepEqual(records[2], { line: 3, error: 'unexpected "x" after a closing quote' });
  assert.deepEqual(records[3], { line: 4, fields: ["a\nb", "3"] });
  assert.deepEqual(records[4], { line: 6, error: "quoted field is never closed" });
  assert.deepEqual(records[5], { line: 7, fields: ["last", "5"] });
});

test("parseDataset CSV: default columns, the tweet file's empty-text row is a bad row", () => {
  const text =
    "textID,text,selected_text,sentiment\n" +
    'a1," I`d have responded, if I were going","I`d have responded, if I were going",neutral\n' +
    "fdb77c3752,,,neutral\n" +
    "b2,my boss is bullying me...,bullying me,negative\n";
  assert.throws(
    () => parseDataset(text, { fileName: "train.csv" }),
    (e: unknown) => e instanceof XaitError && /^train\.csv:3: missing or empty "text"/.test(e.message),
  );
  const d = parseDataset(text, { fileName: "train.csv", skipBadRows: true });
  assert.equal(d.skipped, 1);
  assert.deepEqual(d.skippedLines, [3]);
  assert.equal(d.textColumn, "text");
  assert.equal(d.labelColumn, "sentiment");
  assert.deepEqual(d.columns, ["textID", "text", "selected_text", "sentiment"]);
  assert.deepEqual(d.examples, [
    { text: " I`d have responded, if I were going", label: "neutral" },
    { text: "my boss is bullying me...", label: "negative" },
  ]);
});

test("parseDataset CSV: a wrong field count names file and line", () => {
  const text = 'text,label\n"a\nb",1\nc,1,extra\n';
  assert.throws(
    () => parseDataset(text, { format: "csv", fileName: "f.csv" }),
    (e: unknown) => e instanceof XaitError && e.message.startsWith("f.csv:4: expected 2 fields, found 3"),
  );
});

test("parseDataset TSV: header, CRLF, text kept as is, labels trimmed, explicit columns", () => {
  const text = "sentence\tlabel\r\nit 's a charming journey . \t1\r\nbleak \t 0 \r\n\r\n";
  const d = parseDataset(text, { fileName: "validation.tsv" });
  assert.deepEqual(d.examples, [
    { text: "it 's a charming journey . ", label: "1" },
    { text: "bleak ", label: "0" },
  ]);
  const pairs = parseDataset("q\tp\ty\nhi\tthere\tyes\n", {
    format: "tsv",
    textColumn: "q",
    pairColumn: "p",
    labelColumn: "y",
  });
  assert.deepEqual(pairs.examples, [{ text: "hi", pair: "there", label: "yes" }]);
  assert.throws(() => parseDataset("a\tb\n1\t2\n", { format: "tsv" }), /no text column/);
});

test("parseDataset TSV: sentence1/sentence2 become text and pair", () => {
  const d = parseDataset("sentence1\tsentence2\tlabel\na\tb\t1\n", { format: "tsv" });
  assert.deepEqual(d.examples, [{ text: "a", pair: "b", label: "1" }]);
  assert.equal(d.pairColumn, "sentence2");
});

test("parseDataset JSON lines: numeric labels, bad JSON and missing fields with line numbers", () => {
  const text = '{"id":"pos_0","label":1,"text":"great <br />film"}\n\n{"label":0,"text":"bad"}\n';
  const d = parseDataset(text, { fileName: "test.jsonl" });
  assert.deepEqual(d.examples, [
    { text: "great <br />film", label: "1" },
    { text: "bad", label: "0" },
  ]);
  assert.deepEqual(d.columns, ["id", "label", "text"]);
  const bad = '{"label":1,"text":"ok"}\n{"label":1,"text":\n{"label":1}\n[1]\n{"label":null,"text":"x"}\n';
  assert.throws(() => parseDataset(bad, { fileName: "b.jsonl" }), /^XaitError: b\.jsonl:2: bad JSON/);
  const skipped = parseDataset(bad, { fileName: "b.jsonl", skipBadRows: true });
  assert.deepEqual(skipped.skippedLines, [2, 3, 4, 5]);
  assert.equal(skipped.examples.length, 1);
  const array = parseDataset('[{"text":"a","label":"x"},\n{"text":"","label":"y"}]', {
    fileName: "a.json",
    skipBadRows: true,
  });
  assert.equal(array.examples.length, 1);
  assert.throws(
    () => parseDataset('[{"text":"a","label":"x"},{"text":"","label":"y"}]', { fileName: "a.json" }),
    /a\.json:1: record 2: missing or empty "text"/,
  );
});

test("labelSet and mapLabels: integers, sentiment words, others alphabetical", () => {
  assert.deepEqual(labelSet(["1", "0", "1"].map(ex)), ["0", "1"]);
  assert.deepEqual(labelSet(["10", "2", "0"].map(ex)), ["0", "2", "10"]);
  assert.deepEqual(labelSet(["positive", "negative", "neutral"].map(ex)), [
    "negative",
    "neutral",
    "positive",
  ]);
  assert.deepEqual(labelSet(["Positive", "Negative"].map(ex)), ["Negative", "Positive"]);
  assert.deepEqual(labelSet(["sports", "business", "world"].map(ex)), ["business", "sports", "world"]);

  const sst = mapLabels(["1", "0", "1"].map(ex));
  assert.deepEqual(sst.ids, [1, 0, 1]);
  assert.equal(sst.numClasses, 2);
  assert.deepEqual(sst.id2label, { 0: "NEGATIVE", 1: "POSITIVE" });
  assert.deepEqual(sst.label2id, { NEGATIVE: 0, POSITIVE: 1 });

  const five = mapLabels(["4", "0", "2"].map(ex));
  assert.deepEqual(five.ids, [4, 0, 2]);
  assert.equal(five.numClasses, 5);
  assert.equal(five.id2label[3], "LABEL_3");

  const tweets = mapLabels(["neutral", "positive", "negative", "neutral"].map(ex));
  assert.deepEqual(tweets.ids, [1, 2, 0, 1]);
  assert.deepEqual(tweets.id2label, { 0: "negative", 1: "neutral", 2: "positive" });
  assert.deepEqual(tweets.label2id, { negative: 0, neutral: 1, positive: 2 });
});

test("mapLabels with a model's label2id: exact, case-insensitive, integer fallback, unknown", () => {
  const config = { NEGATIVE: 0, POSITIVE: 1 };
  assert.deepEqual(mapLabels(["positive", "NEGATIVE", "1", "0"].map(ex), config).ids, [1, 0, 1, 0]);
  assert.deepEqual(mapLabels([ex("x")], { x: 0 }).id2label, { 0: "x" });
  assert.throws(() => mapLabels([ex("neutral")], config), /label "neutral" is not one of the model's labels/);
  assert.throws(() => mapLabels([ex("2")], config), XaitError);
});

test("splitDataset is reproducible from the seed, disjoint, complete and in file order", () => {
  const items = Array.from({ length: 101 }, (_, i) => i);
  const s1 = splitDataset(items, 0.2, 7);
  const s2 = splitDataset(items, 0.2, 7);
  assert.deepEqual(s1, s2);
  assert.equal(s1.validation.length, 20);
  assert.equal(s1.train.length, 81);
  assert.deepEqual(
    [...s1.train, ...s1.validation].sort((a, b) => a - b),
    items,
  );
  assert.deepEqual(
    s1.train,
    [...s1.train].sort((a, b) => a - b),
  );
  assert.notDeepEqual(splitDataset(items, 0.2, 8).validation, s1.validation);
  assert.deepEqual(splitDataset(items, 0, 1).validation, []);
  // Pinned: reports record seeds, so the same seed must keep giving the same split.
  assert.deepEqual(splitDataset([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.3, 42), {
    train: [1, 2, 4, 5, 6, 8, 9],
    validation: [0, 3, 7],
  });
  assert.throws(() => splitDataset(items, 1.5, 1), XaitError);
});

test("readDatasetFile: a missing file is an XaitError naming it", () => {
  assert.throws(
    () => readDatasetFile("/nonexistent/x.tsv"),
    /cannot read dataset \/nonexistent\/x\.tsv: no such file/,
  );
});

test("dataFolder: XAIT_DATA overrides ../shared/data", () => {
  assert.equal(dataFolder({ XAIT_DATA: "/tmp/d" }), "/tmp/d");
  assert.equal(dataFolder({}), join(process.cwd(), "..", "shared", "data"));
});

test(
  "real data: SST-2 validation has 872 sentences (444 positive)",
  { skip: noData("sst2/validation.tsv") },
  () => {
    const d = readDatasetFile(join(DATA, "sst2/validation.tsv"));
    assert.equal(d.examples.length, 872);
    assert.equal(d.examples.filter((e) => e.label === "1").length, 444);
    assert.deepEqual(mapLabels(d.examples).id2label, { 0: "NEGATIVE", 1: "POSITIVE" });
  },
);

test(
  "real data: tweet train.csv has 27,481 rows, the one empty text skipped",
  { skip: noData("tweet-sentiment-extraction/train.csv") },
  () => {
    const file = join(DATA, "tweet-sentiment-extraction/train.csv");
    assert.throws(() => readDatasetFile(file), /train\.csv:316: missing or empty "text"/);
    const d = readDatasetFile(file, { skipBadRows: true });
    assert.equal(d.examples.length, 27480);
    assert.equal(d.skipped, 1);
    assert.deepEqual(d.skippedLines, [316]);
    const counts = mapLabels(d.examples).ids.reduce((c, id) => (c[id]++, c), [0, 0, 0]);
    assert.deepEqual(counts, [7781, 11118 - 1, 8582]);
  },
);

test("real data: IMDB test.jsonl has 25,000 balanced reviews", { skip: noData("imdb/test.jsonl") }, () => {
  const d = readDatasetFile(join(DATA, "imdb/test.jsonl"));
  assert.equal(d.examples.length, 25000);
  assert.equal(d.examples.filter((e) => e.label === "1").length, 12500);
  assert.ok(d.examples[0].text.length > 0);
});
