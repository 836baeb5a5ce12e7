import { vi } from 'vitest';

/** Runs `f`, counting the characters handed to the base64 and hex decoders meanwhile: the work masking does, not its time. */
export function countingDecodes<T>(f: () => T): { chars: number; result: T } {
  let chars = 0;
  const from = Buffer.from.bind(Buffer) as (...a: unknown[]) => Buffer;
  const spy = vi.spyOn(Buffer, 'from').mockImplementation(((...a: unknown[]) => {
    if (typeof a[0] === 'string' && (a[1] === 'base64' || a[1] === 'hex')) chars += a[0].length;
    return from(...a);
  }) as typeof Buffer.from);
  try {
    const result = f();
    return { chars, result };
  } finally {
    spy.mockRestore();
  }
}
