// ESM resolve hook of script processes: `import … from 'pixyz-scheduler'` (or its `/geometry`)
// in a job script, wherever the script lies, resolves to the worker's own installation. Plain
// JS: it runs on the loader thread before any TypeScript support is there.
let urls = {};

export function initialize(data) {
  urls = data.urls;
}

export async function resolve(specifier, context, nextResolve) {
  const url = urls[specifier];
  // Resolved through the rest of the chain, so that tsx still handles what it must.
  return nextResolve(url ?? specifier, context);
}
