/**
 * Parsing of AWS Query (EC2 flavour) form bodies for the test fixtures: `A.1.B.2.C=v` becomes
 * `{ A: [ { B: [ , { C: 'v' } ] } ] }` with 1-based list members turned into 0-based arrays.
 */

export type QueryValue = string | QueryObject | QueryValue[];
export interface QueryObject {
  [key: string]: QueryValue;
}

/** Most form fields parsed: a RunInstances body has a few dozen. */
const MAX_FIELDS = 2_000;

export function parseQuery(body: string): QueryObject {
  const root: Record<string, unknown> = {};
  const params = new URLSearchParams(body);
  let n = 0;
  for (const [key, value] of params) {
    if (++n > MAX_FIELDS) throw new Error('too many form fields');
    const parts = key.split('.');
    let node: Record<string, unknown> = root;
    for (const [i, part] of parts.entries()) {
      if (part === '__proto__' || part === 'constructor' || part === 'prototype') break;
      if (i === parts.length - 1) node[part] = value;
      else {
        const next = node[part];
        if (typeof next !== 'object' || next === null) node[part] = {};
        node = node[part] as Record<string, unknown>;
      }
    }
  }
  return toLists(root) as QueryObject;
}

/** Objects whose keys are all positive integers become arrays, in index order. */
function toLists(value: unknown): QueryValue {
  if (typeof value !== 'object' || value === null) return value as string;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 0 && entries.every(([k]) => /^[1-9][0-9]*$/.test(k))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => toLists(v));
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, toLists(v)]));
}

export function str(obj: QueryObject | undefined, key: string): string | undefined {
  const v = obj?.[key];
  return typeof v === 'string' ? v : undefined;
}

export function list(obj: QueryObject | undefined, key: string): QueryValue[] {
  const v = obj?.[key];
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

export function obj(value: QueryValue | undefined): QueryObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/** A stable string of the parameters, keys sorted: equal requests give equal strings. */
export function fingerprint(value: QueryValue | undefined): string {
  if (value === undefined || typeof value === 'string') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(fingerprint).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${fingerprint(value[k])}`).join(',')}}`;
}
