// Lets a child process run the server's TypeScript sources directly (no build step): `.js` specifiers
// that name a `.ts` file resolve to it, and `.ts` files are transpiled with TypeScript's transpileModule.
// Use: node --conditions=source --import ./ts-loader.mjs child.ts
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

if (!process.env.WPS_TS_LOADER_HOOKS) {
  process.env.WPS_TS_LOADER_HOOKS = '1';
  register(import.meta.url, pathToFileURL('./'));
}

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && /^(\.|\/|file:)/.test(specifier) && context.parentURL) {
    const url = new URL(specifier, context.parentURL);
    const ts = url.href.replace(/\.js$/, '.ts');
    if (!existsSync(fileURLToPath(url)) && existsSync(fileURLToPath(ts)))
      return { url: ts, shortCircuit: true };
  }
  return next(specifier, context);
}

let ts;
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  ts ??= (await import('typescript')).default;
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
