export function ensureDeployTools(): string;
export function helm(command: 'lint' | 'template', chart: string, valuesFiles?: string[]): { status: number | null; stdout: string; stderr: string };
export function checkCompose(file: string): { status: number | null; stdout: string };
