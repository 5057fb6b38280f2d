export declare const BUILD: string;
/** Makes sure the script processes' JavaScript of the current sources exists; returns its tree (the runner is `<tree>/src/sdk/runner.js`). */
export declare function ensureRuntime(options?: { log?: (message: string) => void }): string;
