export declare const BUILD: string;
/** Makes sure the script processes' JavaScript of the current sources exists; returns its tree (the runner is `<tree>/src/sdk/runner.js`). */
export declare function ensureRuntime(options?: { log?: (message: string) => void }): string;
/** Marks the tree as in use every hour while its worker runs; returns the function that stops it. */
export declare function keepRuntime(dir: string): () => void;
/** Removes from `build` left-over temporaries, and trees (but `keep`) neither among the 10 latest used nor used for a day. */
export declare function prune(build: string, keep: string): void;
