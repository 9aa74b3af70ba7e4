import { MetricsParseError } from './errors.js';

/**
 * A small strict parser for the Prometheus text exposition format (0.0.4), enough for vLLM's
 * /metrics: `# HELP` / `# TYPE` and other comments, samples with labels (escaped `\\`, `\"`,
 * `\n` in values), NaN / ±Inf, and an optional timestamp. Anything malformed throws
 * MetricsParseError with the line number; callers degrade to "load unknown".
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs: number | null;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    samples.push(parseSampleLine(line, i + 1));
  }
  return samples;
}

function parseSampleLine(line: string, lineNo: number): Sample {
  const nameMatch = NAME.exec(line);
  if (nameMatch === null) throw new MetricsParseError(lineNo, 'expected a metric name');
  const name = nameMatch[0];
  let pos = name.length;
  let labels: Record<string, string> = {};
  if (line[pos] === '{') {
    const parsed = parseLabels(line, pos + 1, lineNo);
    labels = parsed.labels;
    pos = parsed.end;
  }
  const rest = line.slice(pos);
  if (!/^[ \t]/.test(rest)) throw new MetricsParseError(lineNo, 'expected whitespace before the value');
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2) throw new MetricsParseError(lineNo, 'expected a value and an optional timestamp');
  const value = parseValue(fields[0] ?? '', lineNo);
  let timestampMs: number | null = null;
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) throw new MetricsParseError(lineNo, `bad timestamp ${fields[1]}`);
    timestampMs = Number(fields[1]);
  }
  return { name, labels, value, timestampMs };
}

function parseLabels(line: string, start: number, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let pos = start;
  for (;;) {
    while (line[pos] === ' ') pos++;
    if (line[pos] === '}') return { labels, end: pos + 1 };
    const m = LABEL_NAME.exec(line.slice(pos));
    if (m === null) throw new MetricsParseError(lineNo, `expected a label name at column ${pos + 1}`);
    const key = m[0];
    pos += key.length;
    if (line[pos] !== '=' || line[pos + 1] !== '"') throw new MetricsParseError(lineNo, `expected ="…" after label ${key}`);
    pos += 2;
    let value = '';
    for (;;) {
      const ch = line[pos];
      if (ch === undefined) throw new MetricsParseError(lineNo, `unterminated value of label ${key}`);
      pos++;
      if (ch === '"') break;
      if (ch === '\\') {
        const next = line[pos++];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new MetricsParseError(lineNo, `bad escape \\${next ?? ''} in label ${key}`);
      } else {
        value += ch;
      }
    }
    if (Object.hasOwn(labels, key)) throw new MetricsParseError(lineNo, `duplicate label ${key}`);
    labels[key] = value;
    while (line[pos] === ' ') pos++;
    if (line[pos] === ',') pos++;
    else if (line[pos] !== '}') throw new MetricsParseError(lineNo, `expected , or } after label ${key}`);
  }
}

function parseValue(text: string, lineNo: number): number {
  // Case-insensitive, as Prometheus's own parser (Go's ParseFloat) reads them: prom-client
  // writes NaN as "Nan".
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new MetricsParseError(lineNo, `bad value ${text}`);
  return Number(text);
}
