export declare const PACKAGE_DIR: string;
export declare function defaultPython(): string;
export declare function ensurePythonPackage(options?: { env?: NodeJS.ProcessEnv; log?: (message: string) => void }): string | undefined;
