const cache = new Map<string, RegExp>();

/** Whether `value` matches a glob where `*` stands for any run of characters (and only that). */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === value;
  let re = cache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
    cache.set(pattern, re);
  }
  return re.test(value);
}
