/**
 * Where the build puts the <headlight-explorer> script, beside index.html:
 * web/config/element-bundle.ts writes it there and embed-code.ts names it in
 * the snippets. No imports: the Vite config (Node) reads it too.
 */
export const ELEMENT_SCRIPT = 'embed/headlight-explorer.js';
