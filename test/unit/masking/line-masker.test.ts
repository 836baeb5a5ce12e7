/*
 * A server's stderr is masked a line at a time, as it arrives. The attack (the ninth round): forms whose value
 * stands on a line after its key were masked in a whole text but not line by line, so a server that printed its
 * config stored the values in the log and on the console: a YAML value on the next line, pretty-printed JSON, a
 * TOML multi-line string, a YAML list under a password key.
 */
import { describe, expect, it } from 'vitest';
import { createMasker } from '../../../main/masking/masker.js';
import { createLineMasker } from '../../../main/masking/line-masker.js';

const masker = createMasker({ detectors: ['secrets', 'email', 'credit-card', 'ip'], custom: [] }, Buffer.alloc(32, 9));
const lines = (text: string): string[] => {
  const mask = createLineMasker(() => masker);
  return text.split('\n').map(mask);
};

describe('stderr, a line at a time', () => {
  it.each([
    ['a YAML value on the next line', 'config:\n  password:\n    StderrYamlNext7Qx\n  user: app', 'StderrYamlNext7Qx'],
    ['pretty-printed JSON', '{\n  "password":\n    "StderrJsonPretty8Wz"\n}', 'StderrJsonPretty8Wz'],
    ['a TOML multi-line string', 'password = """\nStderrToml3Mv\n"""', 'StderrToml3Mv'],
    ['a YAML list under a password key', 'secrets:\n  passwords:\n    - StderrYamlList9Pk\n    - other-pw-2x', 'StderrYamlList9Pk'],
  ])('masks %s', (_label, text, secret) => {
    expect(lines(text).join('\n')).not.toContain(secret);
  });
  it('leaves ordinary log lines as they were', () => {
    const log = ['starting server on port 8080', 'loaded 12 tools', 'password policy: min length 12', 'ready'];
    expect(lines(log.join('\n'))).toEqual(log);
  });
});
