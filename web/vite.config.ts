import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The Python package serves ../roomtone/static; the server's CSP allows only
// same-origin scripts, so the build must not inline any script (Vite emits
// external module files and no inline bootstrap; modulePreload polyfill is off
// because it would be injected inline).
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: '../roomtone/static',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2020',
  },
  server: {
    proxy: {
      '/ws': { target: 'ws://127.0.0.1:5670', ws: true },
      '/config': 'http://127.0.0.1:5670',
      '/logs': 'http://127.0.0.1:5670',
      '/participants': 'http://127.0.0.1:5670',
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
