// ESM resolve hook of script processes: `import … from 'pixyz-scheduler'` in a job script,
// wherever the script lies, resolves to the worker's own SDK. Plain JS: it runs on the loader
// thread before any TypeScript support is there.
let sdkUrl;

export function initialize(data) {
  sdkUrl = data.sdkUrl;
}

export async function resolve(specifier, context, nextResolve) {
  // Resolved through the rest of the chain, so that tsx still loads the TypeScript file.
  if (specifier === 'pixyz-scheduler') return nextResolve(sdkUrl, context);
  return nextResolve(specifier, context);
}
