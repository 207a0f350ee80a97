// Types of classic-script.mjs for the Vite config's TypeScript (web/config/element-bundle.ts).
export function classicScript(entry: string): Promise<string>;
