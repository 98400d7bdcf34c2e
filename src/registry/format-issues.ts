import type { z } from 'zod';

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** One line per zod issue: `prefix.path: message (got value)`. */
export function formatIssues(prefix: string, error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // An issue at the root (an unknown top-level key) has no path: name the whole config rather than nothing.
    const field = [prefix, ...path.map(String)].filter(Boolean).join('.') || 'config';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown option(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${field}: ${message}`;
    }
    return `${field}: ${message} (got ${show(valueAt(input, issue.path))})`;
  });
}
