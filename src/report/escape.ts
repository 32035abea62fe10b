/**
 * Escape text for HTML and XML content and attribute values: `& < > " '`. Control characters that
 * XML forbids are replaced by U+FFFD so that an SVG stays well-formed.
 */
export function escapeXml(text: string): string {
  return (
    text
      .replace(/[&<>"']/g, (c) => ESCAPES[c]!)
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
  );
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
