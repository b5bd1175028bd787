import { replaceControls } from '../util/text.ts';

// XML escaping for junit.xml. Besides the five markup characters, XML 1.0 forbids most
// control characters outright (no escape makes them legal), and error messages from Docker
// carry ANSI colour codes (ESC); one such byte makes the whole file unparseable for CI. They
// become U+FFFD (util/text.ts, shared with report.html and summary.md), as do DEL, C1
// controls, lone surrogates and U+FFFE/U+FFFF.

export function xmlText(s: string): string {
  return replaceControls(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** For attribute values in double quotes; line breaks survive as character references. */
export function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}
