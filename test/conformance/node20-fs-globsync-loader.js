const shim = new URL('./node20-fs-globsync-shim.js', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if ((specifier === 'fs' || specifier === 'node:fs') && context.parentURL?.includes('@modelcontextprotocol/conformance')) {
    return { url: shim, shortCircuit: true };
  }
  return next(specifier, context);
}
