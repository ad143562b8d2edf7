/**
 * A strict parser for the YAML subset plugin manifests use, standing in for Stash's yaml.v2 in strict
 * mode (reference/stash-plugin-protocol.md §1.1): block maps, block sequences, plain / single-quoted /
 * double-quoted scalars, flow sequences and flow maps of scalars, and comments. A duplicate key is an
 * error, as in yaml.v2 strict mode. Everything outside the subset (anchors, aliases, tags, block scalars,
 * multiple documents, tabs in indentation) is rejected with the line number, so a manifest that passes
 * here is one we know how yaml.v2 reads. Scalars stay strings (yaml.v2 decodes them into Stash's string
 * fields as their literal text).
 */

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlError extends Error {
  override name = 'YamlError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

interface Line {
  no: number;
  indent: number;
  text: string; // content without indentation and comment
}

function stripComment(text: string, no: number): string {
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = null;
    } else if (quote === "'") {
      if (c === "'") {
        if (text[i + 1] === "'") i++;
        else quote = null;
      }
    } else if (c === '"' || c === "'") {
      // A quote opens a quoted scalar only at the start of a value.
      const before = text.slice(0, i).trimEnd();
      if (before === '' || before.endsWith(':') || before.endsWith('-') || before.endsWith('[') || before.endsWith(',') || before.endsWith('{')) quote = c;
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ')) {
      return text.slice(0, i).trimEnd();
    }
  }
  if (quote) throw new YamlError(no, 'unterminated quoted string');
  return text.trimEnd();
}

function tokenize(source: string): Line[] {
  const out: Line[] = [];
  const rows = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  rows.forEach((row, i) => {
    const no = i + 1;
    const indentMatch = /^[ \t]*/.exec(row)![0];
    if (indentMatch.includes('\t')) throw new YamlError(no, 'tab in indentation');
    const text = stripComment(row.slice(indentMatch.length), no);
    if (text === '') return;
    if (text === '---' || text === '...' || text.startsWith('%')) throw new YamlError(no, `"${text}" (documents and directives) is not supported`);
    out.push({ no, indent: indentMatch.length, text });
  });
  return out;
}

function parseDoubleQuoted(s: string, no: number): string {
  try {
    return JSON.parse(s) as string;
  } catch {
    throw new YamlError(no, `bad double-quoted string ${s}`);
  }
}

/** A scalar in block context. */
function parseScalar(raw: string, no: number): YamlValue {
  const s = raw.trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new YamlError(no, `text after a quoted string: ${s}`);
    return parseDoubleQuoted(s, no);
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new YamlError(no, `text after a quoted string: ${s}`);
    const inner = s.slice(1, -1);
    if (/'(?!')/.test(inner.replace(/''/g, ''))) throw new YamlError(no, `bad single-quoted string ${s}`);
    return inner.replace(/''/g, "'");
  }
  if (s.startsWith('[')) return parseFlowSeq(s, no);
  if (s.startsWith('{')) return parseFlowMap(s, no);
  if (/^[&*!|>@`%]/.test(s)) throw new YamlError(no, `"${s[0]}" (anchors, aliases, tags, block scalars, reserved) is not supported`);
  if (s.includes(': ') || s.endsWith(':')) throw new YamlError(no, `plain scalar contains ": " — quote it: ${s}`);
  return s;
}

function splitFlow(inner: string, no: number): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote) {
      cur += c;
      if (quote === '"' && c === '\\') cur += inner[++i] ?? '';
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    if (c === '[' || c === '{') throw new YamlError(no, 'nested flow collections are not supported');
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (quote) throw new YamlError(no, 'unterminated quoted string in flow collection');
  if (cur.trim() !== '') parts.push(cur);
  else if (parts.length > 0) throw new YamlError(no, 'empty entry in flow collection');
  return parts;
}

function parseFlowSeq(s: string, no: number): YamlValue[] {
  if (!s.endsWith(']')) throw new YamlError(no, `flow sequence must end with "]": ${s}`);
  return splitFlow(s.slice(1, -1), no).map((p) => {
    if (p.trim() === '') throw new YamlError(no, 'empty entry in flow sequence');
    return parseScalar(p, no);
  });
}

function parseFlowMap(s: string, no: number): { [key: string]: YamlValue } {
  if (!s.endsWith('}')) throw new YamlError(no, `flow map must end with "}": ${s}`);
  const out: { [key: string]: YamlValue } = {};
  for (const p of splitFlow(s.slice(1, -1), no)) {
    const m = /^\s*([^:]+?)\s*:(?:\s+(.*))?$/.exec(p);
    if (!m) throw new YamlError(no, `bad flow map entry "${p.trim()}"`);
    const key = keyText(m[1]!, no);
    if (Object.hasOwn(out, key)) throw new YamlError(no, `duplicate key "${key}"`);
    out[key] = parseScalar(m[2] ?? '', no);
  }
  return out;
}

function keyText(raw: string, no: number): string {
  const v = parseScalar(raw, no);
  if (typeof v !== 'string') throw new YamlError(no, `keys must be scalars: ${raw}`);
  return v;
}

// `key: value` or `key:`; the key is plain or quoted.
function splitKey(text: string, no: number): { key: string; rest: string } | undefined {
  const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#\-[\]{}][^:]*?|-[^\s:][^:]*?)\s*:(?:\s+(.*)|$)/.exec(text);
  if (!m) return undefined;
  return { key: keyText(m[1]!, no), rest: (m[2] ?? '').trim() };
}

class Parser {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  parseDocument(): YamlValue {
    if (this.lines.length === 0) return null;
    const v = this.parseNode(this.lines[0]!.indent);
    const extra = this.lines[this.i];
    if (extra) throw new YamlError(extra.no, 'unexpected indentation');
    return v;
  }

  private parseNode(indent: number): YamlValue {
    const line = this.lines[this.i]!;
    if (line.indent !== indent) throw new YamlError(line.no, 'unexpected indentation');
    return line.text === '-' || line.text.startsWith('- ') ? this.parseSeq(indent) : this.parseMap(indent);
  }

  private parseSeq(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (;;) {
      const line = this.lines[this.i];
      if (!line || line.indent < indent) return out;
      if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
      // Not an item: the list ends here (a same-indentation list under a map key); the caller judges the line.
      if (!(line.text === '-' || line.text.startsWith('- '))) return out;
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        this.i++;
        const next = this.lines[this.i];
        out.push(next && next.indent > indent ? this.parseNode(next.indent) : null);
        continue;
      }
      // `- key: value` starts a map whose keys sit at the column after "- ".
      const col = indent + (line.text.length - rest.length);
      if (splitKey(rest, line.no) && !rest.startsWith('"') && !rest.startsWith("'") && !rest.startsWith('[') && !rest.startsWith('{')) {
        this.lines[this.i] = { no: line.no, indent: col, text: rest };
        out.push(this.parseMap(col));
        continue;
      }
      this.i++;
      out.push(parseScalar(rest, line.no));
    }
  }

  private parseMap(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    for (;;) {
      const line = this.lines[this.i];
      if (!line || line.indent < indent) return out;
      if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
      const kv = splitKey(line.text, line.no);
      if (!kv) throw new YamlError(line.no, `expected "key: value", got "${line.text}"`);
      if (Object.hasOwn(out, kv.key)) throw new YamlError(line.no, `duplicate key "${kv.key}"`);
      this.i++;
      if (kv.rest !== '') {
        out[kv.key] = parseScalar(kv.rest, line.no);
        continue;
      }
      const next = this.lines[this.i];
      // yaml.v2 allows a sequence at the same indentation as its key.
      if (next && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))) out[kv.key] = this.parseSeq(indent);
      else if (next && next.indent > indent) out[kv.key] = this.parseNode(next.indent);
      else out[kv.key] = null;
    }
  }
}

/** Parses a document of the subset; throws `YamlError` naming the line for anything else. */
export function parseStrictYaml(source: string): YamlValue {
  return new Parser(tokenize(source)).parseDocument();
}
