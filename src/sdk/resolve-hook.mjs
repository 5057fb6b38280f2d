// ESM resolve hook of the script process: `import … from 'pixyz-scheduler'` in a job script,
// wherever the script lies, resolves to the worker's own SDK. Plain JS: it runs on the loader
// thread before any TypeScript support is there.
let sdkUrl;

export function initialize(data) {
  sdkUrl = data.sdkUrl;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'pixyz-scheduler') return { url: sdkUrl, shortCircuit: true };
  return nextResolve(specifier, context);
}
