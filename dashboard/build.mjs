// Builds the dashboard into OUTDIR (default ./dist; CMake passes <build>/dashboard/dist):
// index.html, assets/* with content hashes in their names, and a .gz sibling (zlib, level 9)
// for every text file, which berthd serves to clients accepting gzip.
//   node build.mjs [--outdir DIR]

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
const outdir = resolve(at >= 0 ? args[at + 1] : join(here, 'dist'));
const assets = join(outdir, 'assets');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: { main: 'src/main.jsx' },
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: assets,
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const rel = (p) => '/' + relative(outdir, resolve(here, p)).split('\\').join('/');
let mainJs = null;
let mainCss = null;
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint === 'src/main.jsx' && file.endsWith('.js')) {
    mainJs = rel(file);
    if (meta.cssBundle) mainCss = rel(meta.cssBundle);
  }
}
if (!mainJs) throw new Error('build: no output for src/main.jsx');

const firstLoad = ['index.html', mainJs.slice(1), mainCss && mainCss.slice(1)].filter(Boolean);
// First load = index.html, the entry module, the chunks it imports statically, and its CSS.
const staticImports = new Set(firstLoad);
const queue = [mainJs.slice(1)];
while (queue.length) {
  const cur = queue.pop();
  const meta = result.metafile.outputs[relative(here, join(outdir, cur))];
  for (const imp of (meta && meta.imports) || []) {
    if (imp.kind !== 'import-statement') continue;
    const r = relative(outdir, resolve(here, imp.path));
    if (!staticImports.has(r)) {
      staticImports.add(r);
      queue.push(r);
    }
  }
}
// Chunks the entry imports statically: preloaded so they load alongside it, not after it.
const preloads = [...staticImports]
  .filter((f) => f.endsWith('.js') && '/' + f !== mainJs)
  .map((f) => `<link rel="modulepreload" href="/${f}">\n`)
  .join('');
const icon = readFileSync(join(here, 'src/favicon.svg'));
const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
writeFileSync(join(assets, iconName), icon);

writeFileSync(
  join(outdir, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>berth</title>
<link rel="icon" href="/assets/${iconName}" type="image/svg+xml">
${mainCss ? `<link rel="stylesheet" href="${mainCss}">\n` : ''}${preloads}<script type="module" src="${mainJs}"></script>
</head>
<body>
<div id="app"></div>
<noscript>berth's dashboard needs JavaScript.</noscript>
</body>
</html>
`,
);

const TEXT = /\.(html|js|css|svg|json|txt|map)$/;
function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const rows = [];
for (const f of walk(outdir)) {
  if (!TEXT.test(f)) continue;
  const raw = readFileSync(f);
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(f + '.gz', gz);
  rows.push([relative(outdir, f), raw.length, gz.length]);
}
rows.sort((a, b) => a[0].localeCompare(b[0]));
let first = 0;
for (const [name, raw, gz] of rows) {
  const mark = staticImports.has(name) ? '*' : ' ';
  if (staticImports.has(name) && !name.endsWith('.html')) first += gz;
  console.log(`${mark} ${name.padEnd(40)} ${String(raw).padStart(8)} B  gz ${String(gz).padStart(7)} B`);
}
console.log(`first load (*) JS+CSS gzip: ${first} B (${(first / 1024).toFixed(1)} KiB) -> ${outdir}`);
const info = Buffer.from(JSON.stringify({ firstLoad: [...staticImports], firstLoadJsCssGzipBytes: first }, null, 1) + '\n');
writeFileSync(join(outdir, 'build-info.json'), info);
writeFileSync(join(outdir, 'build-info.json.gz'), gzipSync(info, { level: constants.Z_BEST_COMPRESSION }));
