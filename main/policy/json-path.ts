/**
 * Values at a path in a JSON value. Paths are dotted keys with `[n]` or `[*]` for arrays, optionally starting
 * with `$.`: `sql`, `options.mode`, `files[*].path`, `$.items[0].name`. `*` alone means every string, number
 * and boolean anywhere in the value.
 */
export function valuesAt(root: unknown, path: string): unknown[] {
  if (path === '*') return leaves(root);
  const steps = parsePath(path);
  let current: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step === '*') {
        if (Array.isArray(value)) next.push(...value);
        else if (value !== null && typeof value === 'object') next.push(...Object.values(value));
      } else if (typeof step === 'number') {
        if (Array.isArray(value) && step < value.length) next.push(value[step]);
      } else {
        const found = member(value, step);
        if (found !== ABSENT) next.push(found);
      }
    }
    current = next;
  }
  return current;
}

export const ABSENT = Symbol('absent');

/**
 * A member of a JSON object as a server reading it would see it: its own, or else the one under an own
 * `__proto__` key (JSON.parse keeps that as a plain key; a server that copies the object onto another makes it
 * the prototype, and then reads through it).
 */
export function member(value: unknown, key: string): unknown {
  for (let current = value; current !== null && typeof current === 'object' && !Array.isArray(current); current = (current as Record<string, unknown>)['__proto__']) {
    if (Object.hasOwn(current, key)) return (current as Record<string, unknown>)[key];
    if (!Object.hasOwn(current, '__proto__')) break;
  }
  return ABSENT;
}

function parsePath(path: string): (string | number)[] {
  const steps: (string | number)[] = [];
  const body = path.startsWith('$.') ? path.slice(2) : path.startsWith('$') ? path.slice(1) : path;
  for (const part of body.split('.')) {
    const m = /^([^[\]]*)((?:\[(?:\d+|\*)\])*)$/.exec(part);
    if (!m) {
      steps.push(part);
      continue;
    }
    if (m[1]) steps.push(m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+|\*)\]/g)) steps.push(idx[1] === '*' ? '*' : Number(idx[1]));
  }
  return steps;
}

function leaves(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [value];
}

/**
 * Every text an argument rule tests for one value found at its path: a string, number or boolean as text; an
 * array as one command line (every scalar inside it, nested arrays and objects' values included, joined by
 * spaces) and then each element; an object's keys and then each of its values; to any depth. `null` gives
 * no text.
 */
export function textsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') out.push(String(value));
  else if (Array.isArray(value)) {
    // As a command line: every scalar inside it, however nested, in order (`["rm", ["-rf"], "/"]` is `rm -rf /`).
    const words = leaves(value).filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean');
    if (words.length > 1) out.push(words.map(String).join(' '));
    for (const element of value) textsOf(element, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      out.push(key);
      textsOf(member, out);
    }
  }
  return out;
}
