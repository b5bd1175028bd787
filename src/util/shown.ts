// Text from an input file quoted back in an error message (a key, a value, a parser's note).
// The message goes to a terminal and into CI logs: a control byte could move the cursor or
// forge a line, a bidi override could reorder what a person reads, and a 1 MB "key" would
// flood the log. Such characters are shown escaped (\u{1b}), so the user can find them, and
// long text is cut with its length said. (util/text.ts replaces them, for report files.)

// C0, DEL, C1, format characters (bidi overrides, zero-width), line and paragraph
// separators, private use, lone surrogates (u flag: a pair is one code point).
const UNSAFE = /[\p{Cc}\p{Cf}\p{Co}\u2028\u2029\ud800-\udfff]/gu;
const SAFE = /^[^\p{Cc}\p{Cf}\p{Co}\u2028\u2029\ud800-\udfff]*$/u;

/** The text with every invisible or control character written as \u{hex}. */
function escapeText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

/** Escaped, and at most `max` characters: longer text keeps its start and says its length. */
export function clip(text: string, max: number): string {
  return cut(text, max, false);
}

/** A value quoted in a message, JSON-style: "mars", or "aaaa"…(5000 characters). */
export function quote(value: string, max: number): string {
  return cut(value, max, true);
}

function cut(text: string, max: number, json: boolean): string {
  const wrap = (s: string) => (json ? `"${s}"` : s);
  // The common case, short and plain, without the walk below.
  if (text.length <= max && SAFE.test(text) && (!json || !/["\\]/.test(text))) return wrap(text);
  const all = escapeUpTo(text, max, json);
  if (all.whole) return wrap(all.shown);
  // No "." or brackets in the tail: a clipped key still reads as one field of a path.
  const tail = `…(${text.length} characters)`;
  return wrap(escapeUpTo(text, Math.max(1, max - tail.length), json).shown) + tail;
}

/** The escaped start of `text` that fits in `max` characters, never splitting an escape. */
function escapeUpTo(text: string, max: number, json: boolean): { shown: string; whole: boolean } {
  let shown = '';
  let seen = 0;
  // By code point, and never more of the text than could fit: a huge text is not copied.
  for (const ch of text.slice(0, max + 1)) {
    const piece = escapeText(json ? JSON.stringify(ch).slice(1, -1) : ch);
    if (shown.length + piece.length > max) return { shown, whole: false };
    shown += piece;
    seen += ch.length;
  }
  return { shown, whole: seen === text.length };
}
