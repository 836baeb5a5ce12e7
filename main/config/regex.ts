/**
 * A regex as gatehouse.yaml writes it. A leading `(?i)` (the PCRE way, which JavaScript lacks) means
 * case-insensitive. Throws a SyntaxError naming what is wrong.
 */
export function compileRegex(source: string): RegExp {
  const ci = source.startsWith('(?i)');
  return new RegExp(ci ? source.slice(4) : source, ci ? 'i' : '');
}
