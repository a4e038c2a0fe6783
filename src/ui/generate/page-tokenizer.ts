/**
 * The active model's CLIP tokenizer on the page, for the prompt's token counter (A1111 users expect
 * "n/75" under the prompt). Built once per model from its stored tokenizer files (vocab.json ~1.6 MB,
 * merges.txt ~0.5 MB, read from OPFS, no network); the counter shows nothing until it is ready or if the
 * files cannot be read (the engine's own load then reports the problem by name).
 */
import { useEffect, useState } from 'react';
import { ClipTokenizer } from '../../model/tokenizer/clip-bpe';
import { modelFiles } from '../../storage/models/store';

const cache = new Map<string, Promise<ClipTokenizer>>();

/** The first tokenizer (CLIP-L, `tokenizer/`) of a stored model: the one the truncation notices count with. */
export function pageTokenizer(modelId: string): Promise<ClipTokenizer> {
  let p = cache.get(modelId);
  if (!p) {
    p = (async () => {
      const files = await modelFiles(modelId);
      const [vocab, merges, config] = await Promise.all([files.text('tokenizer/vocab.json'), files.text('tokenizer/merges.txt'), files.text('tokenizer/tokenizer_config.json')]);
      return ClipTokenizer.fromFiles(vocab, merges, ClipTokenizer.configFromJson(config));
    })();
    p.catch(() => cache.delete(modelId)); // a later render may try again (e.g. once an import finished)
    cache.set(modelId, p);
  }
  return p;
}

export function useTokenizer(modelId: string | null): ClipTokenizer | null {
  const [tok, setTok] = useState<{ id: string; tok: ClipTokenizer } | null>(null);
  useEffect(() => {
    if (!modelId) return;
    let live = true;
    pageTokenizer(modelId).then(
      (t) => live && setTok({ id: modelId, tok: t }),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [modelId]);
  return tok && tok.id === modelId ? tok.tok : null;
}
