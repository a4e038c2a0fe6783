/**
 * Prompt text cleanup done before CLIP BPE, as transformers' CLIPTokenizer does it:
 * `whitespace_clean(ftfy.fix_text(text)).lower()`.
 *
 * ftfy is Python-only, so `fixText` re-implements the subset of ftfy 6.x `fix_text` (default config)
 * that changes ordinary prompts (see ftfy/fixes.py and ftfy/chardata.py):
 * - unescape_html (only when the text has no '<', ftfy's "auto" rule), for a table of common
 *   entities and numeric `&#..;` references;
 * - remove_control_chars, fix_line_breaks, fix_latin_ligatures, fix_character_width (full/half-width
 *   forms -> NFKC), uncurl_quotes, then NFC normalization.
 * Not re-implemented: mojibake repair (fix_encoding, decode_inconsistent_utf8, restore_byte_a0,
 * replace_lossy_sequences, fix_c1_controls) and terminal-escape removal; prompts typed in a browser
 * are already valid Unicode, so these only matter for text that was mis-decoded elsewhere.
 * `normalizeNfcOnly` is the simpler variant (NFC only, no ftfy) that tokenizer.json ports use; the
 * golden case lists the prompts where the two differ.
 */

/** Named HTML entities ftfy would decode (it accepts html5 names ending in ';', plus upper-case forms). */
const HTML_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae',
  trade: '\u2122', hellip: '\u2026', mdash: '\u2014', ndash: '\u2013', lsquo: '\u2018', rsquo: '\u2019',
  ldquo: '\u201c', rdquo: '\u201d', laquo: '\u00ab', raquo: '\u00bb', deg: '\u00b0', times: '\u00d7',
  eacute: '\u00e9', egrave: '\u00e8', aacute: '\u00e1', agrave: '\u00e0', ouml: '\u00f6', uuml: '\u00fc',
  auml: '\u00e4', szlig: '\u00df', ccedil: '\u00e7', ntilde: '\u00f1', middot: '\u00b7', bull: '\u2022',
};

const HTML_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

function unescapeEntity(m: string): string {
  if (m.startsWith('&#')) {
    const hex = m[2] === 'x' || m[2] === 'X';
    const digits = m.slice(hex ? 3 : 2, -1);
    if (!(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return m;
    const cp = parseInt(digits, hex ? 16 : 10);
    return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m;
  }
  const name = m.slice(1, -1);
  const direct = HTML_ENTITIES[name];
  if (direct !== undefined) return direct;
  // ftfy also accepts the all-upper-case spelling of a lower-case entity, giving the upper-case char.
  const lower = HTML_ENTITIES[name.toLowerCase()];
  return lower !== undefined && name === name.toUpperCase() ? lower.toUpperCase() : m;
}

// ftfy chardata CONTROL_CHARS: C0 except \t \n \f \r, DEL, deprecated format chars, BOM, annotation chars.
const CONTROL_RE = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const LINE_BREAK_RE = /\r\n|[\r\u2028\u2029\u0085]/g;
const LIGATURE_RE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;
// fix_character_width: U+FF01..U+FFEF whose NFKC differs, and U+3000 -> ' '.
const WIDTH_RE = /[\uff01-\uffef]/g;
const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;

function fixSegment(s: string, unescape: boolean): string {
  if (unescape) s = s.replace(HTML_ENTITY_RE, unescapeEntity);
  return s
    .replace(CONTROL_RE, '')
    .replace(LINE_BREAK_RE, '\n')
    .replace(LIGATURE_RE, (c) => c.normalize('NFKC'))
    .replace(WIDTH_RE, (c) => c.normalize('NFKC'))
    .replace(/\u3000/g, ' ')
    .replace(SINGLE_QUOTE_RE, "'")
    .replace(DOUBLE_QUOTE_RE, '"')
    .normalize('NFC');
}

/** The ftfy 6.x `fix_text` subset described above. Like ftfy, works line by line. */
export function fixText(text: string): string {
  let unescape = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const seg = text.slice(pos, end);
    // ftfy's unescape_html="auto": once a segment contains '<' the text is taken as real HTML.
    if (seg.includes('<')) unescape = false;
    out += fixSegment(seg, unescape);
    pos = end;
  }
  return out;
}

/** Python's `\s` for str patterns (str.isspace()), which is wider than JavaScript's `\s`. */
export const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN_RE = new RegExp(`[${PY_WHITESPACE}]+`, 'g');

/** CLIP's whitespace_clean: `re.sub(r'\s+', ' ', text).strip()`. */
export function whitespaceClean(text: string): string {
  const s = text.replace(WS_RUN_RE, ' ');
  return s.replace(new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'g'), '');
}

/** Cleanup matching transformers' slow CLIPTokenizer with ftfy installed (the golden reference). */
export function cleanFtfy(text: string): string {
  return whitespaceClean(fixText(text)).toLowerCase();
}

/** The NFC-only variant (no ftfy), roughly what CLIPTokenizerFast / tokenizer.json ports do. */
export function cleanNfcOnly(text: string): string {
  return whitespaceClean(text.normalize('NFC')).toLowerCase();
}
