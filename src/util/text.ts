// Text from users and services (names, reasons, versions, error messages) on its way into a
// report file. A raw control byte is invisible on the page, NUL ends the text for some
// readers, ESC runs escape sequences in a terminal that prints the file, and XML 1.0 cannot
// hold most of them at all. Each becomes U+FFFD, so a reader sees that something was there.
// Tab, line feed and carriage return stay: every format we write has its own rule for them.

/** What an unsafe character becomes: visible, valid in XML, HTML and Markdown alike. */
const REPLACEMENT = '\uFFFD';

// C0 but tab/LF/CR, DEL, C1 (U+0085 is a line break to some readers), lone surrogates (u flag:
// a pair is one code point and does not match) and U+FFFE/U+FFFF, which are not characters.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff]/gu;

/** The text with every control character but tab, LF and CR replaced by U+FFFD. */
export function replaceControls(s: string): string {
  return s.replace(UNSAFE, REPLACEMENT);
}
