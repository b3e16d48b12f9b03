// TwiML indented for reading in the detail panel: one element per line, two spaces a level; an
// element holding only text stays on one line. Text and attributes are kept as they came.

const TOKEN = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<[^>]+>|[^<]+/g;

/** The document indented; a body that does not look like XML is returned as it is. */
export function prettyXml(xml: string): string {
  if (!xml.trimStart().startsWith("<")) return xml;
  const tokens = xml.match(TOKEN) ?? [];
  const lines: string[] = [];
  let depth = 0;
  const pad = () => "  ".repeat(Math.max(depth, 0));
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (!t.startsWith("<")) {
      const text = t.trim();
      if (text) lines.push(`${pad()}${text}`);
      continue;
    }
    if (t.startsWith("</")) {
      depth--;
      lines.push(`${pad()}${t}`);
    } else if (t.startsWith("<?") || t.startsWith("<!") || t.endsWith("/>")) {
      lines.push(`${pad()}${t}`);
    } else {
      // <Say>text</Say> on one line.
      const text = tokens[i + 1];
      const close = tokens[i + 2];
      if (text !== undefined && !text.startsWith("<") && close?.startsWith("</")) {
        lines.push(`${pad()}${t}${text.trim()}${close}`);
        i += 2;
        continue;
      }
      lines.push(`${pad()}${t}`);
      depth++;
    }
  }
  return lines.join("\n");
}
