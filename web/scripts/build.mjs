// npm run build: the Vite build into dist/, then the hash of the sources it
// was built from into SOURCES.sha256. The gateway embeds dist/; a Go test
// (web/web_test.go) recomputes the hash without npm and fails when sources
// changed and the bundle was not rebuilt. Keep sourceFiles in step with
// sourceFiles in web.go.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

// The files whose content shapes the bundle.
const sourceRoots = ['package.json', 'package-lock.json', 'vite.config.js', 'index.html', 'playground.html', 'src', 'scripts'];

function walk(p, out) {
  if (statSync(p).isDirectory()) {
    for (const name of readdirSync(p)) walk(join(p, name), out);
  } else {
    out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

export function sourcesHash() {
  const files = sourceRoots.flatMap((r) => walk(join(root, r), [])).sort();
  const h = createHash('sha256');
  for (const f of files) {
    const content = createHash('sha256').update(readFileSync(join(root, f))).digest('hex');
    h.update(`${f}\0${content}\n`);
  }
  return h.digest('hex');
}

await build({ root, logLevel: 'warn' });
writeFileSync(join(root, 'SOURCES.sha256'), sourcesHash() + '\n');
console.log('web: built dist/ from sources', sourcesHash());
