import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { XaitError } from "../src/errors.js";
import {
  BYTE_SYMBOLS_BY_ID,
  BYTE_TO_SYMBOL,
  buildByteLevelBPE,
  byteLevelWords,
  fromByteLevel,
  learnByteLevelBPE,
} from "../src/tokenize/bpe.js";
import { loadLibraryTokenizer, type LibraryTokenizer } from "../src/tokenize/library.js";
import { DATA, noData } from "./helpers/shared-data.js";

interface BPEFile {
  model: { type: string; vocab: Record<string, number>; merges: string[]; unk_token: null };
  added_tokens: { id: number; content: string; special: boolean; normalized: boolean }[];
  pre_tokenizer: { type: string; add_prefix_space: boolean; use_regex: boolean };
}

const repeat = (text: string, times: number): string[] => Array.from({ length: times }, () => text);

/** Texts that exercise every branch of the GPT-2 pattern and multi-byte UTF-8. */
const TRICKY = [
  "Héllo wörld, naïve café — résumé!",
  "👩‍👩‍👧‍👦 family 👍🏽 thumbs 🇫🇷 flag",
  "你好，世界。日本語のテキスト",
  "tabs\t\tand\nnew\r\nlines   and    spaces  ",
  "  leading and trailing  ",
  "it's I'll we've they're I'm he'd don't 'S",
  "123,456.78 + x² = ∑ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u00a0nbsp\u3000ideographic",
  "\u0000\u0001\u007f control \ufffd replacement",
  "<br /><br />HTML & entities &amp; <|endoftext|> inside",
];

function load(json: string): LibraryTokenizer {
  return loadLibraryTokenizer(JSON.parse(json) as object);
}

/** Byte-level BPE learned the slow, obvious way: recount every pair after each merge. */
function naiveMerges(texts: string[], vocabSize: number, minFrequency: number): string[] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of byteLevelWords(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const words = [...counts].map(([word, count]) => ({ symbols: [...word], count }));
  const vocab = new Set(BYTE_TO_SYMBOL);
  const merges: string[] = [];
  while (vocab.size < vocabSize - 1) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: [string, string] | undefined;
    let bestCount = 0;
    for (const [key, count] of pairs) {
      const [l, r] = key.split(" ");
      if (
        count > bestCount ||
        (count === bestCount && best !== undefined && (l < best[0] || (l === best[0] && r < best[1])))
      ) {
        best = [l, r];
        bestCount = count;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    merges.push(best.join(" "));
    vocab.add(best[0] + best[1]);
    for (const word of words) {
      const out: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (word.symbols[i] === best[0] && word.symbols[i + 1] === best[1]) {
          out.push(best[0] + best[1]);
          i++;
        } else {
          out.push(word.symbols[i]);
        }
      }
      word.symbols = out;
    }
  }
  return merges;
}

/** A deterministic pseudo-random corpus of syllable words with spaces, punctuation and repeats. */
function syntheticCorpus(n: number): string[] {
  let state = 12345;
  const next = (k: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0; // a 32-bit linear congruential generator
    return (state >>> 16) % k;
  };
  const syllables = ["ba", "na", "an", "aa", "é", "日", "the", "re", "ing", "s", "'s", "!", "  ", "12"];
  const texts: string[] = [];
  for (let t = 0; t < n; t++) {
    const words: string[] = [];
    for (let w = 0, len = 1 + next(8); w < len; w++) {
      let word = "";
      for (let s = 0, k = 1 + next(4); s < k; s++) word += syllables[next(syllables.length)];
      words.push(word);
    }
    texts.push(words.join(next(5) === 0 ? ", " : " "));
  }
  return texts;
}

test("the byte table is GPT-2's: printable bytes stand for themselves, the others shifted past U+00FF", () => {
  assert.equal(new Set(BYTE_TO_SYMBOL).size, 256);
  assert.equal(BYTE_TO_SYMBOL[0x41], "A");
  assert.equal(BYTE_TO_SYMBOL[0xe9], "é");
  assert.equal(BYTE_TO_SYMBOL[0], "Ā"); // U+0100
  assert.equal(BYTE_TO_SYMBOL[10], "Ċ"); // newline
  assert.equal(BYTE_TO_SYMBOL[32], "Ġ"); // space
  assert.equal(BYTE_TO_SYMBOL[127], "ġ"); // DEL, the 34th non-printable byte: U+0100 + 33
  assert.equal(BYTE_TO_SYMBOL[173], "Ń"); // soft hyphen, the last: U+0100 + 67
  // GPT-2's encoder.json: ids follow the symbols' code points, "!" = 0, "Ċ" = 198, "Ġ" = 220.
  assert.equal(BYTE_SYMBOLS_BY_ID[0], "!");
  assert.equal(BYTE_SYMBOLS_BY_ID.indexOf("Ċ"), 198);
  assert.equal(BYTE_SYMBOLS_BY_ID.indexOf("Ġ"), 220);
});

test("pre-tokenisation matches the ByteLevel pre-tokenizer of @huggingface/tokenizers", () => {
  const library = load(buildByteLevelBPE(["a"], { vocabSize: 257 }));
  for (const text of TRICKY.slice(0, -1)) {
    assert.deepEqual(byteLevelWords(text), library.pre_tokenizer!(text), JSON.stringify(text));
  }
  assert.deepEqual(byteLevelWords("a<|endoftext|>b c"), ["a", "b", "Ġc"], "special tokens are cut out");
});

test("the most frequent pair is merged first, counts re-made after each merge", () => {
  // Pairs: u g 10+5+5 = 20, p u 5+12 = 17, u n 12+4 = 16, h u 10+5 = 15, g s 5, b u 4.
  // After "u g": u n 16, h ug 15, p u 12, p ug 5, ug s 5, b u 4. After "u n": h ug 15, p un 12, ….
  const texts = [
    ...repeat("hug", 10),
    ...repeat("pug", 5),
    ...repeat("pun", 12),
    ...repeat("bun", 4),
    ...repeat("hugs", 5),
  ];
  const bpe = learnByteLevelBPE(texts, { vocabSize: 256 + 4 + 1 });
  assert.deepEqual(bpe.merges, [
    ["u", "g"],
    ["u", "n"],
    ["h", "ug"],
    ["p", "un"],
  ]);
  assert.deepEqual(bpe.vocab.slice(256), ["ug", "un", "hug", "pun", "<|endoftext|>"]);
  const library = load(buildByteLevelBPE(texts, { vocabSize: 261 }));
  assert.deepEqual(library.tokenize("hugs pun bug"), ["hug", "s", "Ġ", "pun", "Ġ", "b", "ug"]);
});

test("ties go to the smaller left symbol, then the smaller right symbol, by code point", () => {
  // (c,d), (a,b), (a,a) and (z,z), (Ġ,a) each occur 3 times; text order must not matter.
  const texts = [
    ...repeat("cd", 3),
    ...repeat("ab", 3),
    ...repeat("aa", 3),
    ...repeat(" a", 3),
    ...repeat("zz", 3),
  ];
  const merges = learnByteLevelBPE(texts, { vocabSize: 256 + 5 + 1 }).merges.map((m) => m.join(" "));
  assert.deepEqual(merges, ["a a", "a b", "c d", "z z", "Ġ a"]);
  const reversed = learnByteLevelBPE([...texts].reverse(), { vocabSize: 262 }).merges.map((m) => m.join(" "));
  assert.deepEqual(reversed, merges);
});

test("incremental pair counts give exactly the merges of a full recount after every merge", () => {
  const texts = syntheticCorpus(400);
  for (const minFrequency of [1, 3]) {
    const fast = learnByteLevelBPE(texts, { vocabSize: 450, minFrequency }).merges.map((m) => m.join(" "));
    assert.deepEqual(fast, naiveMerges(texts, 450, minFrequency), `minFrequency ${minFrequency}`);
    assert.ok(fast.length > 50);
  }
});

test("the tokenizer.json loads in @huggingface/tokenizers and round-trips any UTF-8 text", () => {
  const training = syntheticCorpus(300);
  const json = buildByteLevelBPE(training, { vocabSize: 400 });
  const file = JSON.parse(json) as BPEFile;
  assert.equal(file.model.type, "BPE");
  assert.equal(file.model.unk_token, null);
  assert.equal(file.pre_tokenizer.add_prefix_space, false);
  assert.ok(file.model.merges.every((m) => m.split(" ").length === 2));
  const library = load(json);
  // Never-seen bytes (emoji, CJK, control characters) still tokenise: every byte is a token.
  for (const text of [...TRICKY, ...training.slice(0, 20)]) {
    const tokens = library.tokenize(text);
    for (const token of tokens) assert.notEqual(library.token_to_id(token), undefined, token);
    const decoded = decode(tokens);
    assert.equal(decoded, text);
  }
});

/** Tokens → text: special tokens as they are, runs of byte-level tokens through the inverse byte table. */
function decode(tokens: string[]): string {
  let text = "";
  let run: string[] = [];
  for (const token of tokens) {
    if (token === "<|endoftext|>") {
      text += fromByteLevel(run) + token;
      run = [];
    } else {
      run.push(token);
    }
  }
  return text + fromByteLevel(run);
}

test("<|endoftext|> is one special token with the last id, and the vocabulary has vocabSize entries", () => {
  const json = buildByteLevelBPE(syntheticCorpus(300), { vocabSize: 400 });
  const file = JSON.parse(json) as BPEFile;
  const ids = Object.values(file.model.vocab).sort((a, b) => a - b);
  assert.deepEqual(
    ids,
    Array.from({ length: 400 }, (_, i) => i),
  );
  assert.equal(file.model.vocab["<|endoftext|>"], 399);
  assert.deepEqual(
    file.added_tokens.map(({ id, content, special, normalized }) => ({ id, content, special, normalized })),
    [{ id: 399, content: "<|endoftext|>", special: true, normalized: false }],
  );
  const library = load(json);
  assert.deepEqual(library.tokenize("ba<|endoftext|>na"), ["ba", "<|endoftext|>", "na"]);
  assert.equal(library.token_to_id("<|endoftext|>"), 399);
  assert.equal(library.get_vocab(true).size, 400);
});

test("several special tokens take the last ids in order", () => {
  const bpe = learnByteLevelBPE(syntheticCorpus(50), {
    vocabSize: 300,
    specialTokens: ["<pad>", "<|endoftext|>"],
  });
  assert.equal(bpe.vocab.length, 300);
  assert.deepEqual(bpe.vocab.slice(-2), ["<pad>", "<|endoftext|>"]);
});

test("minFrequency stops merging early; the vocabulary is then smaller than asked", () => {
  const texts = [...repeat("ab", 5), ...repeat("cd", 2), "ef"];
  assert.deepEqual(learnByteLevelBPE(texts, { vocabSize: 1000, minFrequency: 3 }).merges, [["a", "b"]]);
  const all = learnByteLevelBPE(texts, { vocabSize: 1000, minFrequency: 1 });
  assert.deepEqual(all.merges, [
    ["a", "b"],
    ["c", "d"],
    ["e", "f"],
  ]);
  assert.equal(all.vocab.length, 256 + 3 + 1);
  assert.equal(all.vocab[259], "<|endoftext|>");
});

test("the same input gives byte-identical JSON", () => {
  const texts = syntheticCorpus(200);
  assert.equal(buildByteLevelBPE(texts, { vocabSize: 350 }), buildByteLevelBPE(texts, { vocabSize: 350 }));
});

test("invalid sizes and empty text are errors the user can act on", () => {
  assert.throws(
    () => learnByteLevelBPE(["abc"], { vocabSize: 256 }),
    (e: unknown) => e instanceof XaitError && e.exitCode === 2 && /at least 257/.test(e.message),
  );
  assert.throws(
    () => learnByteLevelBPE(["abc"], { vocabSize: 257, specialTokens: ["<a>", "<b>"] }),
    (e: unknown) => e instanceof XaitError && /at least 258/.test(e.message),
  );
  assert.throws(
    () => learnByteLevelBPE(["abc"], { vocabSize: 300, specialTokens: ["<a>", "<a>"] }),
    (e: unknown) => e instanceof XaitError && /"<a>" is listed twice/.test(e.message),
  );
  for (const texts of [[], [""], ["<|endoftext|>"]]) {
    assert.throws(
      () => learnByteLevelBPE(texts, { vocabSize: 300 }),
      (e: unknown) => e instanceof XaitError && /no words/.test(e.message),
    );
  }
});

const IMDB = path.join(DATA, "imdb", "train.jsonl");

test(
  "IMDB reviews: a 2000-token vocabulary, round trips through @huggingface/tokenizers",
  { skip: noData("imdb/train.jsonl") },
  () => {
    const lines = readFileSync(IMDB, "utf8")
      .split("\n", 1500)
      .filter((l) => l.length > 0);
    const texts = lines.map((l) => (JSON.parse(l) as { text: string }).text);
    const json = buildByteLevelBPE(texts.slice(0, 1000), { vocabSize: 2000 });
    const file = JSON.parse(json) as BPEFile;
    assert.equal(Object.keys(file.model.vocab).length, 2000);
    assert.equal(file.model.merges[0], "Ġ t"); // " t" (the, that, this, to) is the commonest pair in English
    const library = load(json);
    assert.deepEqual(library.tokenize(" the"), ["Ġthe"]);
    for (const text of texts.slice(1000)) assert.equal(fromByteLevel(library.tokenize(text)), text);
  },
);

test("the trained tokenizer.json loads as a model tokenizer: <|endoftext|> is its end-of-text token, text round-trips", async () => {
  const { tokenizerFromJSON, replacementToken } = await import("../src/tokenize/index.js");
  const json = buildByteLevelBPE(["the movie was great", "a terrible film with a weak plot", "naïve café"], {
    vocabSize: 300,
    minFrequency: 1,
  });
  const t = tokenizerFromJSON(json);
  assert.equal(t.special.eos, 299);
  assert.equal(
    replacementToken(t.special),
    299,
    "no unknown or pad token: occlusion replaces by <|endoftext|>",
  );
  for (const s of ["the film was great 👍", "Grüße\tand  spaces"]) assert.equal(t.decode(t.encode(s).ids), s);
});
