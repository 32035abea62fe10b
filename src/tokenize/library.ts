import { Tokenizer } from "@huggingface/tokenizers";

/**
 * The parts of @huggingface/tokenizers (v0.2) that xait uses, typed here: the package's own .d.ts files
 * import each other without file extensions, which TypeScript's NodeNext resolution cannot follow, so
 * its `Tokenizer` arrives as `any` and its component classes (normalizers, …) not at all.
 */
export interface LibraryTokenizer {
  /** Tokens of a text (and pair), special tokens only if asked. */
  tokenize(text: string, options?: { text_pair?: string | null; add_special_tokens?: boolean }): string[];
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  readonly normalizer: ((text: string) => string) | null;
  readonly pre_tokenizer: ((text: string) => string[]) | null;
  readonly post_processor:
    | ((
        tokens: string[],
        pair: string[] | null,
        addSpecialTokens: boolean,
      ) => { tokens: string[]; tokens_pair?: string[]; token_type_ids?: number[] })
    | null;
}

/** Builds the library's tokenizer from a parsed tokenizer.json (throws the library's own errors). */
export function loadLibraryTokenizer(json: object): LibraryTokenizer {
  const Constructor = Tokenizer as unknown as new (tokenizerJson: object, config: object) => LibraryTokenizer;
  return new Constructor(json, {});
}
