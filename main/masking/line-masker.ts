import { KEY_BLOCK_BEGIN, KEY_BLOCK_END, secretKeyStrength } from './detectors.js';
import type { Masker } from './masker.js';

const YAML_BLOCK = /^([ \t]*)([A-Za-z0-9_.-]+)[ \t]*:[ \t]*[|>][+-]?[0-9]?[ \t]*(?:#.*)?$/;
/** A TOML multi-line string opened under a key (`password = """`), its closing quotes on a later line. */
const TOML_OPEN = /^[ \t]*([A-Za-z0-9_.-]+)[ \t]*=[ \t]*("""|''')[ \t]*$/;
/** How many lines before a line are read with it (a key on the line before its value, a list under a key), and how much text. */
const WINDOW_LINES = 12;
const WINDOW_CHARS = 2048;

/**
 * Masks text that arrives a line at a time (a server's stderr), where a secret may span lines: a private key's
 * body after its BEGIN line, a YAML block scalar after `password: |`, a TOML `password = """`, and every form
 * whose value stands on a line after its key (YAML's next-line value and lists, pretty-printed JSON). Blocks
 * are masked whole, line by line; any other line is masked with the lines just before it, as one text, so that
 * what the whole text's masking finds in it is found line by line too. One per stream: it remembers its lines.
 */
export function createLineMasker(masker: () => Masker): (line: string) => string {
  let inKey = false;
  let blockIndent: number | undefined;
  let tomlClose: string | undefined;
  const before: string[] = [];
  const remember = (line: string) => {
    before.push(line);
    while (before.length > WINDOW_LINES || (before.length > 1 && before.join('\n').length > WINDOW_CHARS)) before.shift();
  };
  return (line) => {
    const m = masker();
    if (inKey) {
      if (KEY_BLOCK_END.test(line)) inKey = false;
      return line.trim() === '' ? line : m.token('private-key', line);
    }
    if (tomlClose !== undefined) {
      if (line.includes(tomlClose)) tomlClose = undefined;
      return line.trim() === '' || line.trim() === '"""' || line.trim() === "'''" ? line : m.token('secret-value', line.trim());
    }
    if (blockIndent !== undefined) {
      const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
      if (line.trim() !== '' && indent > blockIndent) return m.token('secret-value', line.trim());
      blockIndent = undefined;
    }
    if (KEY_BLOCK_BEGIN.test(line) && !KEY_BLOCK_END.test(line)) inKey = true;
    const block = YAML_BLOCK.exec(line);
    if (block && secretKeyStrength(block[2] as string) !== undefined) blockIndent = (block[1] as string).length;
    const toml = TOML_OPEN.exec(line);
    if (toml && secretKeyStrength(toml[1] as string) !== undefined) tomlClose = toml[2];
    const alone = m.text(line);
    if (before.length === 0 || line.trim() === '') {
      remember(line);
      return alone;
    }
    // The line read after the ones before it: what that finds in it is kept (a token reaching back into the lines
    // before, a value across the break, masks the line whole).
    const prior = before.join('\n');
    const joined = m.text(`${prior}\n${line}`);
    const priorMasked = m.text(prior);
    remember(line);
    if (!joined.startsWith(`${priorMasked}\n`)) return m.token('secret-value', line.trim());
    const inContext = joined.slice(priorMasked.length + 1);
    return inContext.split('[MASKED:').length >= alone.split('[MASKED:').length ? inContext : alone;
  };
}
