export function buildConsoleUi(esbuild: typeof import('esbuild')): Promise<{ script: string; styles: string }>;
