import type { Interceptor } from '../gateway/pipeline.js';
import type { Masker } from './masker.js';

/** With `masking.inline: true`, what the client receives is masked too (what is stored always is). */
export function inlineMasker(live: () => { masker: Masker; inline: boolean }): Interceptor {
  return {
    name: 'inline-masking',
    intercept(message, ctx) {
      const { masker, inline } = live();
      if (!inline || ctx.direction !== 'server->client') return { action: 'forward', message };
      return { action: 'forward', message: masker.json(message) };
    },
  };
}
