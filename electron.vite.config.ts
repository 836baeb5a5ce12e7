import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

// One build for all three parts. main/ yields two entries: the Electron main process (desktop.js) and the
// `gatehouse` CLI (cli.js), which runs on plain Node 20 and needs no Electron at all.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      target: 'node20',
      rollupOptions: {
        input: {
          desktop: resolve('main/desktop/index.ts'),
          cli: resolve('main/cli/main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve('preload/index.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [svelte({ configFile: resolve('svelte.config.js') })],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: resolve('renderer/index.html') },
    },
  },
});
