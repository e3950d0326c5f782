import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The plein binary embeds `dist/` and serves it; `npm run dev` proxies the API to a local plein.
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets/app',
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
    },
  },
});
