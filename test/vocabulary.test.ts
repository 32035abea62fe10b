import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { XaitError } from "../src/errors.js";
import { buildWordPieceVocabulary, tokenizerFromJSON, type Tokenizer } from "../src/tokenize/index.js";
import { learnWordPieceVocabulary } from "../src/tokenize/vocabulary.js";
import { DATA, noData } from "./helpers/shared-data.js";

const SST2 = path.join(DATA, "sst2", "train.tsv");
const noSst2 = noData("sst2/train.tsv");

const TEXTS = [
  "The film is great, truly GREAT!",
  "A great cast; the story is thin.",
  "Café naïve résumé — the cafe is nice.",
  "The end. The end? 映画 is 映画",
  "bad bad bad film",
];

interface TokenizerJSONShape {
  model: {
    type: string;
    vocab: Record<string, number>;
    unk_token: string;
    continuing_subword_prefix: string;
    max_input_chars_per_word: number;
  };
  normalizer: { type: string; lowercase: boolean };
  pre_tokenizer: { type: string };
  post_processor: {
    type: string;
    special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
  };
  decoder: { type: string; prefix: string };
  added_tokens: { id: number; content: string; special: boolean }[];
}

function vocabOf(t: Tokenizer): string[] {
  const vocab = (JSON.parse(t.toJSON()) as TokenizerJSONShape).model.vocab;
  const list: string[] = [];
  for (const [token, id] of Object.entries(vocab)) list[id] = token;
  return list;
}

test("special tokens come first with fixed ids", () => {
  const t = buildWordPieceVocabulary(TEXTS, { minFrequency: 1 });
  assert.deepEqual(t.special, { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
  assert.deepEqual(vocabOf(t).slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  assert.deepEqual(t.encode("great film").tokens, ["[CLS]", "great", "film", "[SEP]"]);
});

test("characters are normalised like BERT: lowercase, accents stripped, CJK apart", () => {
  const vocab = learnWordPieceVocabulary(TEXTS, { minFrequency: 1 });
  assert.ok(vocab.includes("cafe") && vocab.includes("naive") && vocab.includes("resume"));
  assert.ok(!vocab.slice(5).some((t) => /[A-Zéï]/.test(t)), "no upper case or accented tokens");
  assert.ok(vocab.includes("映") && vocab.includes("画") && !vocab.includes("映画"));
  assert.ok(
    vocab.includes("##e") && vocab.includes(",") && !vocab.includes("##,"),
    "punctuation never continues",
  );
});

test("every word made of seen characters tokenises without [UNK]", () => {
  const t = buildWordPieceVocabulary(TEXTS, { minFrequency: 1, vocabSize: 60 });
  const letters = [
    ...new Set(
      TEXTS.join("")
        .toLowerCase()
        .normalize("NFD")
        .replace(/\p{Mn}/gu, ""),
    ),
  ].filter((c) => /\p{L}/u.test(c));
  let seed = 1;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 500; i++) {
    const word = Array.from(
      { length: 1 + Math.floor(rand() * 12) },
      () => letters[Math.floor(rand() * letters.length)],
    );
    const e = t.encode(word.join("").toUpperCase());
    assert.ok(!e.ids.includes(t.special.unk!), `${word.join("")} → ${e.tokens.join(" ")}`);
  }
  assert.ok(t.encode("zzz").ids.includes(t.special.unk!), "an unseen character is [UNK]");
});

test("frequent words are single tokens; rare ones are spelled; frequency order with alphabetical ties", () => {
  const t = buildWordPieceVocabulary(TEXTS, {});
  assert.deepEqual(t.encode("the great film").tokens, ["[CLS]", "the", "great", "film", "[SEP]"]);
  assert.deepEqual(t.encode("thin").tokens, ["[CLS]", "t", "##h", "##i", "##n", "[SEP]"]);
  const vocab = vocabOf(t);
  let lastContinuation = -1;
  vocab.forEach((token, id) => {
    if (token.startsWith("##")) lastContinuation = id;
  });
  const words = vocab.slice(lastContinuation + 1);
  // the: 5, is: 4, bad and great: 3 each, cafe (café and cafe), end and film: 2 each
  assert.deepEqual(words, ["the", "is", "bad", "great", "cafe", "end", "film"]);
});

test("vocabSize caps the words but never drops characters", () => {
  const full = vocabOf(buildWordPieceVocabulary(TEXTS, { minFrequency: 1 }));
  const capped = vocabOf(buildWordPieceVocabulary(TEXTS, { minFrequency: 1, vocabSize: full.length - 3 }));
  assert.equal(capped.length, full.length - 3);
  assert.deepEqual(capped, full.slice(0, full.length - 3));
  const tiny = buildWordPieceVocabulary(TEXTS, { vocabSize: 10 });
  const tinyVocab = vocabOf(tiny);
  assert.ok(tinyVocab.length > 10, "characters are kept beyond the cap");
  assert.ok(!tinyVocab.includes("the"), "no whole words once the cap is reached");
  assert.ok(!tiny.encode("great film").ids.includes(tiny.special.unk!));
});

test("deterministic, and independent of text order", () => {
  const a = buildWordPieceVocabulary(TEXTS, { minFrequency: 1 }).toJSON();
  const b = buildWordPieceVocabulary(TEXTS, { minFrequency: 1 }).toJSON();
  const c = buildWordPieceVocabulary([...TEXTS].reverse(), { minFrequency: 1 }).toJSON();
  assert.equal(a, b);
  assert.equal(a, c);
});

test("round trip through toJSON / tokenizerFromJSON", () => {
  const t = buildWordPieceVocabulary(TEXTS, { minFrequency: 1 });
  const again = tokenizerFromJSON(t.toJSON());
  assert.equal(again.vocabSize, t.vocabSize);
  assert.deepEqual(again.special, t.special);
  for (const text of [...TEXTS, "unseen words here", "Ünïcödé [MASK] qq"]) {
    assert.deepEqual(again.encode(text), t.encode(text));
  }
  assert.deepEqual(again.encode("the film", "is great", 5), t.encode("the film", "is great", 5));
});

test("the JSON has what Python tokenizers.Tokenizer.from_str needs", () => {
  const json = JSON.parse(buildWordPieceVocabulary(TEXTS, {}).toJSON()) as TokenizerJSONShape & {
    version: string;
  };
  assert.equal(json.version, "1.0");
  assert.equal(json.model.type, "WordPiece");
  assert.equal(json.model.unk_token, "[UNK]");
  assert.equal(json.model.continuing_subword_prefix, "##");
  assert.equal(json.model.max_input_chars_per_word, 100);
  assert.equal(typeof json.model.vocab["the"], "number");
  assert.equal(json.normalizer.type, "BertNormalizer");
  assert.equal(json.normalizer.lowercase, true);
  assert.equal(json.pre_tokenizer.type, "BertPreTokenizer");
  assert.equal(json.post_processor.type, "TemplateProcessing");
  assert.deepEqual(json.post_processor.special_tokens["[CLS]"], { id: "[CLS]", ids: [2], tokens: ["[CLS]"] });
  assert.deepEqual(json.post_processor.special_tokens["[SEP]"], { id: "[SEP]", ids: [3], tokens: ["[SEP]"] });
  assert.equal(json.decoder.type, "WordPiece");
  assert.equal(json.decoder.prefix, "##");
  for (const token of json.added_tokens) {
    assert.deepEqual(Object.keys(token).sort(), [
      "content",
      "id",
      "lstrip",
      "normalized",
      "rstrip",
      "single_word",
      "special",
    ]);
  }
  assert.deepEqual(
    json.added_tokens.map((t) => t.content),
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
  );
});

test("stripHtml: formatting tags become spaces in the vocabulary and in the saved tokenizer", () => {
  const texts = [
    "A fine film.<br /><br />The END",
    "<i>Great</i> cast<BR>and <p>plot</P>",
    "a < b > c <3 <spoiler>",
  ];
  const plain = buildWordPieceVocabulary(texts, { minFrequency: 1 });
  assert.deepEqual(plain.encode("film.<br />The").tokens, [
    "[CLS]",
    "film",
    ".",
    "<",
    "br",
    "/",
    ">",
    "the",
    "[SEP]",
  ]);
  const t = buildWordPieceVocabulary(texts, { minFrequency: 1, stripHtml: true });
  assert.deepEqual(t.encode("film.<br />The").tokens, ["[CLS]", "film", ".", "the", "[SEP]"]);
  assert.deepEqual(t.encode("<I>Great</i>cast<br/>").tokens, ["[CLS]", "great", "cast", "[SEP]"]);
  // a tag glued between two words still separates them
  assert.deepEqual(t.encode("end<br>great").tokens, ["[CLS]", "end", "great", "[SEP]"]);
  // not formatting tags: left as they are
  assert.deepEqual(t.encode("a < b <3 <spoiler>").tokens.slice(1, -1), [
    "a",
    "<",
    "b",
    "<",
    "3",
    "<",
    "spoiler",
    ">",
  ]);
  const vocab = learnWordPieceVocabulary(texts, { minFrequency: 1, stripHtml: true });
  assert.ok(!vocab.includes("br"), "no word learned from the tags");
  assert.ok(vocab.includes("spoiler") && vocab.includes("<"));
  const json = JSON.parse(t.toJSON()) as { normalizer: { type: string; normalizers: { type: string }[] } };
  assert.equal(json.normalizer.type, "Sequence");
  assert.deepEqual(
    json.normalizer.normalizers.map((n) => n.type),
    ["Replace", "BertNormalizer"],
  );
  const again = tokenizerFromJSON(t.toJSON());
  for (const text of texts) assert.deepEqual(again.encode(text), t.encode(text));
});

test("bad options and empty training text are refused", () => {
  assert.throws(() => buildWordPieceVocabulary(TEXTS, { vocabSize: 0 }), XaitError);
  assert.throws(() => buildWordPieceVocabulary(TEXTS, { minFrequency: 1.5 }), XaitError);
  assert.throws(() => buildWordPieceVocabulary(["", "  "], {}), /no words/);
});

test(
  "SST-2 training text: a 8000-token vocabulary covers its own text without [UNK]",
  { skip: noSst2 },
  () => {
    const sentences = readFileSync(SST2, "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.split("\t")[0])
      .filter((s) => s.length > 0);
    const t = buildWordPieceVocabulary(sentences, { vocabSize: 8000 });
    assert.equal(t.vocabSize, 8000);
    for (const s of sentences.slice(0, 2000)) assert.ok(!t.encode(s).ids.includes(t.special.unk!), s);
    assert.equal(t.encode("the movie").tokens.length, 4);
  },
);
