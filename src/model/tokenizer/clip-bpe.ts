/**
 * CLIP byte-level BPE tokenizer, matching transformers' slow `CLIPTokenizer` (4.26) as diffusers' SDXL
 * pipeline calls it: `tokenizer(prompt, padding='max_length', max_length=77, truncation=True)`.
 *
 * Steps (transformers models/clip/tokenization_clip.py, openai/CLIP clip/simple_tokenizer.py):
 * 1. split the prompt on the special tokens (bos, eos, unk and pad: `<|startoftext|>`, `<|endoftext|>`,
 *    and `!` for tokenizer_2), each kept as its one id;
 * 2. clean each chunk: ftfy fix_text, whitespace collapse + strip, lower-case (text-clean.ts);
 * 3. pre-tokenize with CLIP's regex (contractions, letter runs, single digits, symbol runs);
 * 4. UTF-8 encode each piece and map bytes to GPT-2's printable `bytes_to_unicode` characters;
 * 5. BPE: mark the last symbol with `</w>`, repeatedly merge the adjacent pair of lowest merge rank;
 * 6. look the symbols up in vocab.json (unknown -> unk id);
 * 7. `tokenize77`: keep the first 75 ids, wrap in BOS/EOS, pad to 77 with the config's pad token.
 * Works in the browser and in Node (no node: imports).
 */
import { cleanFtfy, PY_WHITESPACE } from './text-clean';

export interface ClipTokenizerConfig {
  /** `pad_token` of tokenizer_config.json: `<|endoftext|>` for SDXL's tokenizer, `!` for tokenizer_2. */
  padToken: string;
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
  /** model_max_length: 77 for CLIP. */
  maxLength?: number;
  /** Text cleanup; defaults to the ftfy-equivalent used by the reference. */
  clean?: (text: string) => string;
}

export interface Tokenized77 {
  /** Exactly maxLength ids: BOS, up to maxLength-2 content ids, EOS, then padding. */
  ids: number[];
  /** 1 for BOS, content and EOS; 0 for padding. */
  attentionMask: number[];
  /** Number of non-padding ids (BOS..EOS inclusive). */
  length: number;
  /** True when content ids were dropped to fit. */
  truncated: boolean;
}

/** GPT-2 bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 upwards. */
function bytesToUnicode(): string[] {
  const table: string[] = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : 256 + n++);
  return table;
}

const BYTE_ENCODER = bytesToUnicode();
const BYTE_DECODER = new Map(BYTE_ENCODER.map((ch, b) => [ch, b]));

/** CLIP's pattern (the Python `regex` module with IGNORECASE); `\s` spelled as Python's whitespace. */
const PIECE_RE = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_WHITESPACE}\\p{L}\\p{N}]+`,
  'giu',
);

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly maxLength: number;
  private readonly specials: Map<string, number>;
  private readonly specialRe: RegExp;
  private readonly cache = new Map<string, string[]>();
  private readonly encoder = new TextEncoder();
  private readonly clean: (text: string) => string;
  /** id → symbol, built on the first decode. */
  private inverse: Map<number, string> | null = null;

  private constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    /** Merge rank keyed by `first + ' ' + second`. */
    private readonly ranks: ReadonlyMap<string, number>,
    config: ClipTokenizerConfig,
  ) {
    const id = (tok: string) => {
      const v = vocab.get(tok);
      if (v === undefined) throw new Error(`CLIP vocab has no token ${JSON.stringify(tok)}`);
      return v;
    };
    const bos = config.bosToken ?? '<|startoftext|>';
    const eos = config.eosToken ?? '<|endoftext|>';
    this.bosId = id(bos);
    this.eosId = id(eos);
    this.padId = id(config.padToken);
    this.unkId = id(config.unkToken ?? '<|endoftext|>');
    this.maxLength = config.maxLength ?? 77;
    this.clean = config.clean ?? cleanFtfy;
    // transformers never splits any special token (bos, eos, unk, pad) of the prompt: each occurrence
    // becomes that token's own id. For SDXL's tokenizer_2 the pad token is "!", so a "!" in a prompt
    // is id 0 (the bare "!" symbol), not BPE's "!</w>" (256) - a reference quirk reproduced here.
    const unk = config.unkToken ?? '<|endoftext|>';
    this.specials = new Map([[bos, this.bosId], [eos, this.eosId], [unk, this.unkId], [config.padToken, this.padId]]);
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Longest first, like the reference's trie, so that one special never hides inside another.
    const alternatives = [...this.specials.keys()].sort((a, b) => b.length - a.length).map(esc);
    this.specialRe = new RegExp(`(${alternatives.join('|')})`);
  }

  /**
   * Builds a tokenizer from the text of vocab.json and merges.txt. As transformers does, merges.txt's
   * first line (`#version: ...`) is skipped and at most 49152 - 256 - 2 merges are read.
   */
  static fromFiles(vocabJson: string, mergesTxt: string, config: ClipTokenizerConfig): ClipTokenizer {
    const vocab = new Map(Object.entries(JSON.parse(vocabJson) as Record<string, number>));
    const lines = mergesTxt.trim().split('\n').slice(1, 49152 - 256 - 2 + 1);
    const ranks = new Map<string, number>();
    lines.forEach((line, i) => {
      const [a, b] = line.trim().split(/\s+/);
      if (a !== undefined && b !== undefined) ranks.set(`${a} ${b}`, i);
    });
    return new ClipTokenizer(vocab, ranks, config);
  }

  /** Parses `pad_token` etc. out of tokenizer_config.json text (plain strings or AddedToken objects). */
  static configFromJson(tokenizerConfigJson: string): ClipTokenizerConfig {
    const j = JSON.parse(tokenizerConfigJson) as Record<string, unknown>;
    const tok = (v: unknown): string | undefined =>
      typeof v === 'string' ? v : typeof v === 'object' && v !== null && 'content' in v ? String((v as { content: unknown }).content) : undefined;
    const padToken = tok(j.pad_token);
    if (padToken === undefined) throw new Error('tokenizer_config.json has no pad_token');
    const config: ClipTokenizerConfig = { padToken };
    const bos = tok(j.bos_token), eos = tok(j.eos_token), unk = tok(j.unk_token);
    if (bos !== undefined) config.bosToken = bos;
    if (eos !== undefined) config.eosToken = eos;
    if (unk !== undefined) config.unkToken = unk;
    if (typeof j.model_max_length === 'number') config.maxLength = j.model_max_length;
    return config;
  }

  /** BPE symbols of the prompt in byte-level form (like `tokenizer.tokenize`), without BOS/EOS. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const chunk of text.split(this.specialRe)) {
      if (chunk === '') continue;
      if (this.specials.has(chunk)) {
        out.push(chunk);
        continue;
      }
      for (const m of this.clean(chunk).matchAll(PIECE_RE)) {
        let piece = '';
        for (const b of this.encoder.encode(m[0])) piece += BYTE_ENCODER[b]!;
        out.push(...this.bpe(piece));
      }
    }
    return out;
  }

  /** Whether `word` is one whole token of the vocabulary (as a word, or as a special token). */
  isVocabularyWord(word: string): boolean {
    const w = word.toLowerCase();
    return this.specials.has(word) || this.vocab.has(`${w}</w>`) || this.vocab.has(w);
  }

  /** Token ids of the prompt without BOS/EOS, truncation or padding. */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.vocab.get(t) ?? this.unkId);
  }

  /**
   * Text of token ids (transformers' decode without special-token handling): the symbols joined, `</w>`
   * as a space, bytes back to UTF-8. It is the tokenizer's cleaned form (lower case), for messages.
   */
  decode(ids: readonly number[]): string {
    this.inverse ??= new Map([...this.vocab].map(([tok, id]) => [id, tok]));
    const text = ids.map((id) => this.inverse!.get(id) ?? '').join('').replace(/<\/w>/g, ' ');
    const bytes = Uint8Array.from([...text].map((ch) => (ch === ' ' ? 0x20 : (BYTE_DECODER.get(ch) ?? 0x3f))));
    return new TextDecoder().decode(bytes).trim();
  }

  /** The fixed-length input of a CLIP text encoder: BOS + ids (truncated) + EOS, padded to maxLength. */
  tokenize77(text: string): Tokenized77 {
    const content = this.encode(text);
    const keep = this.maxLength - 2;
    const ids = [this.bosId, ...content.slice(0, keep), this.eosId];
    const length = ids.length;
    while (ids.length < this.maxLength) ids.push(this.padId);
    const attentionMask = ids.map((_, i) => (i < length ? 1 : 0));
    return { ids, attentionMask, length, truncated: content.length > keep };
  }

  /** Greedy BPE of one byte-encoded piece; the last symbol carries the end-of-word marker `</w>`. */
  private bpe(piece: string): string[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const chars = [...piece];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]!}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]!} ${word[i + 1]!}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      // Merge every non-overlapping occurrence of the pair, left to right (as the reference does).
      const first = word[best]!, second = word[best + 1]!;
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(word[i]!);
          i += 1;
        }
      }
      word = next;
    }
    this.cache.set(piece, word);
    return word;
  }
}
