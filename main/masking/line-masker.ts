import { secretKeyStrength } from './detectors.js';
import type { Masker } from './masker.js';

const PEM_BEGIN = /-----BEGIN[ \t]+(?:[A-Z0-9]+[ \t]+)*PRIVATE[ \t]+KEY(?:[ \t]+BLOCK)?-----|PuTTY-User-Key-File-\d:|----[ \t]*BEGIN[ \t]+SSH2[ \t]+(?:ENCRYPTED[ \t]+)?PRIVATE[ \t]+KEY[ \t]*----/;
const PEM_END = /-----END[ \t]+(?:[A-Z0-9]+[ \t]+)*PRIVATE[ \t]+KEY(?:[ \t]+BLOCK)?-----|Private-MAC:|----[ \t]*END[ \t]+SSH2[ \t]+(?:ENCRYPTED[ \t]+)?PRIVATE[ \t]+KEY[ \t]*----/;
const YAML_BLOCK = /^([ \t]*)([A-Za-z0-9_.-]+)[ \t]*:[ \t]*[|>][+-]?[0-9]?[ \t]*(?:#.*)?$/;

/**
 * Masks text that arrives a line at a time (a server's stderr), where a secret may span lines: a private key's
 * body after its BEGIN line, a YAML block scalar after `password: |`. Each line is masked as text, and the lines
 * inside such a block are masked whole. One per stream: it remembers whether it is inside a block.
 */
export function createLineMasker(masker: () => Masker): (line: string) => string {
  let inKey = false;
  let blockIndent: number | undefined;
  return (line) => {
    const m = masker();
    if (inKey) {
      if (PEM_END.test(line)) inKey = false;
      return line.trim() === '' ? line : m.token('private-key', line);
    }
    if (blockIndent !== undefined) {
      const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
      if (line.trim() !== '' && indent > blockIndent) return m.token('secret-value', line.trim());
      blockIndent = undefined;
    }
    if (PEM_BEGIN.test(line) && !PEM_END.test(line)) inKey = true;
    const block = YAML_BLOCK.exec(line);
    if (block && secretKeyStrength(block[2] as string) !== undefined) blockIndent = (block[1] as string).length;
    return m.text(line);
  };
}
