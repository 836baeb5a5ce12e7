import { KEY_BLOCK_BEGIN, KEY_BLOCK_END, secretKeyStrength } from './detectors.js';
import type { Masker } from './masker.js';

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
      if (KEY_BLOCK_END.test(line)) inKey = false;
      return line.trim() === '' ? line : m.token('private-key', line);
    }
    if (blockIndent !== undefined) {
      const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
      if (line.trim() !== '' && indent > blockIndent) return m.token('secret-value', line.trim());
      blockIndent = undefined;
    }
    if (KEY_BLOCK_BEGIN.test(line) && !KEY_BLOCK_END.test(line)) inKey = true;
    const block = YAML_BLOCK.exec(line);
    if (block && secretKeyStrength(block[2] as string) !== undefined) blockIndent = (block[1] as string).length;
    return m.text(line);
  };
}
