import { XaitError, usageError } from "../errors.js";
import { oneLine, parseJsonText } from "../json-file.js";
import type { Encoding, SpecialTokens, Tokenizer } from "./tokenizer.js";
import { loadLibraryTokenizer, type LibraryTokenizer } from "./library.js";
import { longestFirstLengths } from "./truncate.js";

/** A parsed tokenizer.json (Hugging Face tokenizers format); only `model` is required. */
export type TokenizerJSON = Record<string, unknown> & { model: Record<string, unknown> };

/** The top-level keys of a tokenizer.json, in Hugging Face's order; missing ones are written as null. */
const TOP_LEVEL_KEYS = [
  "version",
  "truncation",
  "padding",
  "added_tokens",
  "normalizer",
  "pre_tokenizer",
  "post_processor",
  "decoder",
  "model",
] as const;

/** Special tokens are looked up by these names: BERT's first, then RoBERTa's, then decoders'. */
const SPECIAL_NAMES: Record<keyof SpecialTokens, string[]> = {
  cls: ["[CLS]", "<s>"],
  sep: ["[SEP]", "</s>"],
  pad: ["[PAD]", "<pad>", "<|pad|>", "<|finetune_right_pad_id|>"],
  unk: ["[UNK]", "<unk>"],
  mask: ["[MASK]", "<mask>"],
  eos: ["</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>", "<|eot_id|>"],
};

/** Largest vocabulary id + 1 a tokenizer.json may use (real vocabularies stay far below). */
const MAX_VOCAB_ID = 2 ** 24;

/** Loads a tokenizer.json text. */
export function tokenizerFromJSON(json: string, fileName = "tokenizer.json"): Tokenizer {
  const parsed = parseJsonText(json, fileName);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new XaitError(`${fileName}: not a JSON object`);
  }
  const model = (parsed as Record<string, unknown>).model;
  if (model === null || typeof model !== "object" || Array.isArray(model)) {
    throw new XaitError(`${fileName}: no "model" object (is this a Hugging Face tokenizer.json?)`);
  }
  return tokenizerFromObject(parsed as TokenizerJSON, fileName);
}

/** Builds a tokenizer from a tokenizer.json object (the object is copied, not kept). */
export function tokenizerFromObject(json: TokenizerJSON, fileName = "tokenizer.json"): Tokenizer {
  checkModelSection(json.model, fileName);
  checkAddedTokens(json.added_tokens, fileName);
  const complete: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_KEYS) complete[key] = json[key] ?? null;
  complete.version ??= "1.0";
  complete.added_tokens ??= [];
  for (const [key, value] of Object.entries(json)) if (!(key in complete)) complete[key] = value;
  const text = JSON.stringify(complete, null, 2);
  try {
    return new JsonTokenizer(loadLibraryTokenizer(JSON.parse(text) as object), text, fileName);
  } catch (e) {
    if (e instanceof XaitError) throw e;
    throw loadError(e, complete, fileName);
  }
}

const MODEL_TYPES = ["WordPiece", "BPE", "WordLevel", "Unigram"];

/**
 * The model section in the tokenizers format, checked before the library sees it (the library
 * would fail with its internals' messages, or load an empty vocabulary without a word):
 * WordPiece, BPE and WordLevel map tokens to ids (`vocab: {token: id}`), Unigram lists
 * `vocab: [[piece, score], …]`; BPE also needs `merges`.
 */
function checkModelSection(model: Record<string, unknown>, fileName: string): void {
  const fail = (problem: string): never => {
    throw new XaitError(`${fileName}: cannot be loaded: ${problem}`);
  };
  const { type, vocab } = model;
  if (type !== undefined && !MODEL_TYPES.includes(type as string))
    fail(`"model.type" is ${oneLine(JSON.stringify(type), 60)}, expected ${MODEL_TYPES.join(", ")}`);
  if (type === "Unigram" || (type === undefined && Array.isArray(vocab))) {
    if (!Array.isArray(vocab) || vocab.length === 0)
      fail(`"model.vocab" of a Unigram model must be a non-empty array of [piece, score] pairs`);
    (vocab as unknown[]).forEach((entry, i) => {
      if (!Array.isArray(entry) || typeof entry[0] !== "string" || typeof entry[1] !== "number")
        fail(
          `"model.vocab" entry ${i} is ${oneLine(JSON.stringify(entry) ?? "undefined", 60)}, expected [piece, score]`,
        );
    });
    if (
      model.unk_id != null &&
      !(
        Number.isSafeInteger(model.unk_id) &&
        (model.unk_id as number) >= 0 &&
        (model.unk_id as number) < (vocab as unknown[]).length
      )
    )
      fail(`"model.unk_id" ${oneLine(JSON.stringify(model.unk_id), 40)} is not an index of "model.vocab"`);
    return;
  }
  if (vocab === null || typeof vocab !== "object" || Array.isArray(vocab))
    fail(`"model.vocab" must be an object mapping tokens to ids${vocab === undefined ? " (missing)" : ""}`);
  const entries = Object.entries(vocab as Record<string, unknown>);
  if (entries.length === 0) fail(`"model.vocab" is empty`);
  for (const [token, id] of entries) {
    // ids far beyond any real vocabulary make the library allocate tables of that size (a hang)
    if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= MAX_VOCAB_ID)
      fail(
        `"model.vocab" gives token ${oneLine(JSON.stringify(token), 40)} the id ${oneLine(JSON.stringify(id) ?? "undefined", 40)}, expected an integer from 0 to ${MAX_VOCAB_ID - 1}`,
      );
  }
  for (const key of ["unk_token", "continuing_subword_prefix", "end_of_word_suffix"]) {
    if (model[key] != null && typeof model[key] !== "string") fail(`"model.${key}" must be a string`);
  }
  const maxChars = model.max_input_chars_per_word;
  if (maxChars != null && !(Number.isSafeInteger(maxChars) && (maxChars as number) > 0))
    fail(`"model.max_input_chars_per_word" must be a positive integer`);
  if (type === "BPE") {
    const merges = model.merges;
    if (!Array.isArray(merges)) fail(`"model.merges" of a BPE model must be an array`);
    (merges as unknown[]).forEach((m, i) => {
      const ok =
        (typeof m === "string" && m.split(" ").length === 2) ||
        (Array.isArray(m) && m.length === 2 && m.every((p) => typeof p === "string"));
      if (!ok)
        fail(
          `"model.merges" entry ${i} is ${oneLine(JSON.stringify(m) ?? "undefined", 60)}, expected "a b" or ["a","b"]`,
        );
    });
  }
}

/** `added_tokens`, when given: an array of {id, content} with an integer id from 0 and a non-empty string. */
function checkAddedTokens(added: unknown, fileName: string): void {
  if (added == null) return;
  if (!Array.isArray(added))
    throw new XaitError(`${fileName}: cannot be loaded: "added_tokens" must be an array`);
  added.forEach((t: unknown, i) => {
    const { id, content } = (t ?? {}) as Record<string, unknown>;
    if (
      t === null ||
      typeof t !== "object" ||
      !Number.isSafeInteger(id) ||
      (id as number) < 0 ||
      (id as number) >= 2 ** 31
    )
      throw new XaitError(
        `${fileName}: cannot be loaded: "added_tokens" entry ${i} needs an integer "id" from 0`,
      );
    if (typeof content !== "string" || content === "")
      throw new XaitError(
        `${fileName}: cannot be loaded: "added_tokens" entry ${i} needs a non-empty string "content"`,
      );
  });
}

/** The sections the library reads besides the model, each of which may be left out (null). */
const OPTIONAL_SECTIONS = [
  "normalizer",
  "pre_tokenizer",
  "post_processor",
  "decoder",
  "added_tokens",
] as const;

/**
 * An XaitError for a tokenizer.json the library refused: the library's own message when it is one
 * meant for users (e.g. "Unknown Normalizer type: X"), and the section at fault — the first one that
 * fails to load on its own beside the model — instead of a JavaScript internal message such as
 * "x is not iterable".
 */
function loadError(e: unknown, complete: Record<string, unknown>, fileName: string): XaitError {
  const internal =
    !(e instanceof Error) || e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError;
  // The library names a missing field "undefined"; say "(missing)".
  const reason = internal
    ? ""
    : `: ${oneLine((e as Error).message, 120).replace(/\bundefined\b/g, "(missing)")}`;
  const bare: Record<string, unknown> = { ...complete, added_tokens: [] };
  for (const key of OPTIONAL_SECTIONS) if (key !== "added_tokens") bare[key] = null;
  const loads = (json: Record<string, unknown>): boolean => {
    try {
      new JsonTokenizer(loadLibraryTokenizer(json), "", fileName);
      return true;
    } catch (err) {
      return err instanceof XaitError; // a finding of ours, not the library failing
    }
  };
  const culprit = !loads(bare)
    ? "model"
    : OPTIONAL_SECTIONS.find((key) => !loads({ ...bare, [key]: complete[key] }));
  const section = culprit === undefined ? undefined : complete[culprit];
  let problem: string;
  if (culprit === undefined) problem = `its sections do not fit together${reason}`;
  else if (culprit === "added_tokens" && !Array.isArray(section)) problem = `"added_tokens" must be an array`;
  else if (
    culprit !== "added_tokens" &&
    (section === null || typeof section !== "object" || Array.isArray(section))
  )
    problem = `the "${culprit}" section must be an object`;
  else if (
    culprit !== "added_tokens" &&
    culprit !== "model" &&
    typeof (section as Record<string, unknown>).type !== "string"
  )
    problem = `the "${culprit}" section has no "type"`;
  else problem = `the "${culprit}" section is malformed${reason}`;
  return new XaitError(`${fileName}: cannot be loaded: ${problem}`);
}

/** A Tokenizer backed by @huggingface/tokenizers, adding truncation and token types for pairs. */
class JsonTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  private readonly specialsSingle: number;
  private readonly specialsPair: number;

  constructor(
    private readonly inner: LibraryTokenizer,
    private readonly text: string,
    private readonly fileName: string,
  ) {
    let size = 0;
    for (const id of inner.get_vocab(true).values()) size = Math.max(size, id + 1);
    this.vocabSize = size;
    this.special = resolveSpecials((name) => inner.token_to_id(name));
    this.specialsSingle = this.withSpecials([], null).tokens.length;
    let pairSpecials = NaN; // NaN: the tokenizer has no template for text pairs
    try {
      pairSpecials = this.withSpecials([], []).tokens.length;
    } catch {
      // a single-sequence template: encoding a pair will be refused
    }
    this.specialsPair = pairSpecials;
  }

  encode(text: string, pair?: string, maxLength?: number, keep: "start" | "end" = "start"): Encoding {
    let first = this.segment(text, "empty text");
    let second = pair === undefined ? null : this.segment(pair, "empty text pair");
    if (second !== null && Number.isNaN(this.specialsPair)) {
      throw new XaitError(`${this.fileName}: this tokenizer has no template for text pairs`);
    }
    let truncated = false;
    if (maxLength !== undefined) {
      const specials = second === null ? this.specialsSingle : this.specialsPair;
      const minimum = specials + (second === null ? 1 : 2);
      if (!Number.isInteger(maxLength) || maxLength < minimum) {
        throw usageError(
          `maxLength ${maxLength} is too small: ${specials} special tokens plus at least one token per text need ${minimum}`,
        );
      }
      const [a, b] = longestFirstLengths(first.length, second?.length ?? 0, maxLength - specials);
      truncated = a < first.length || (second !== null && b < second.length);
      first = keep === "end" && second === null ? first.slice(first.length - a) : first.slice(0, a);
      if (second !== null) second = second.slice(0, b);
    }
    const { tokens, token_type_ids } = this.withSpecials(first, second);
    const ids = tokens.map((t) => {
      const id = this.inner.token_to_id(t) ?? this.special.unk;
      if (id === undefined)
        throw new XaitError(
          `${this.fileName}: token ${JSON.stringify(t)} is not in the vocabulary, which has no unknown token`,
        );
      return id;
    });
    const typeIds =
      Array.isArray(token_type_ids) &&
      token_type_ids.length === tokens.length &&
      token_type_ids.every((t) => Number.isInteger(t))
        ? token_type_ids
        : this.fallbackTypeIds(ids, second !== null);
    return { ids, tokens, typeIds, truncated };
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  pieces(text: string): { ids: number[]; tokens: string[] } {
    const tokens = text.length === 0 ? [] : this.inner.tokenize(text, { add_special_tokens: false });
    return { tokens, ids: tokens.map((t) => this.inner.token_to_id(t) ?? this.special.unk ?? -1) };
  }

  decode(ids: readonly number[]): string {
    return ids.length === 0 ? "" : this.inner.decode([...ids]);
  }

  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  toJSON(): string {
    return this.text;
  }

  /** Tokens of one text without special tokens. */
  private segment(text: string, emptyMessage: string): string[] {
    const tokens = text.length === 0 ? [] : this.inner.tokenize(text, { add_special_tokens: false });
    if (tokens.length === 0) throw new XaitError(emptyMessage);
    return tokens;
  }

  /** Applies the model's post-processor (its template of special tokens). */
  private withSpecials(
    first: string[],
    second: string[] | null,
  ): { tokens: string[]; token_type_ids?: number[] } {
    const post = this.inner.post_processor;
    if (post === null) return { tokens: [...first, ...(second ?? [])] };
    const out = post(first, second, true);
    // Some post-processors (ByteLevel) hand the pair back separately instead of merging it.
    if (second !== null && out.tokens_pair !== undefined && out.token_type_ids === undefined) {
      return { tokens: [...out.tokens, ...out.tokens_pair] };
    }
    return out;
  }

  /** Token types when the post-processor gives none: 0 up to and including the first [SEP], 1 after. */
  private fallbackTypeIds(ids: number[], isPair: boolean): number[] {
    const sep = this.special.sep;
    const firstSep = isPair && sep !== undefined ? ids.indexOf(sep) : -1;
    return ids.map((_, i) => (firstSep >= 0 && i > firstSep ? 1 : 0));
  }
}

function resolveSpecials(lookup: (token: string) => number | undefined): SpecialTokens {
  const special: SpecialTokens = {};
  for (const key of Object.keys(SPECIAL_NAMES) as (keyof SpecialTokens)[]) {
    for (const name of SPECIAL_NAMES[key]) {
      const id = lookup(name);
      if (id !== undefined) {
        special[key] = id;
        break;
      }
    }
  }
  return special;
}
