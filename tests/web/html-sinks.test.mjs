// Injection (issue 19): tokens, model names, file names and URL values are
// always text. The page builds its DOM with textContent and elements; this
// guard reads every TypeScript file of web/src and fails on a way to turn a
// string into markup or code with anything but a literal: an innerHTML or
// outerHTML assignment whose value is not string literals joined by '+',
// insertAdjacentHTML, document.write, eval, new Function, a string given to
// setTimeout / setInterval. Prints how many files and literal assignments it
// read.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SRC = join(REPO_ROOT, 'web/src');

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

// Line comments and block comments out, so their words are not code.
function code(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

// 'a' + "b" + 'c' (single or double quotes, no template literal: a `${}` could hold text).
const LITERALS = /^\s*(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")(?:\s*\+\s*(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))*\s*$/;

test('web/src turns no string into markup or code but literals', () => {
  const files = tsFiles(SRC);
  const problems = [];
  let literal = 0;
  for (const file of files) {
    const text = code(readFileSync(file, 'utf8'));
    const where = relative(REPO_ROOT, file);
    for (const m of text.matchAll(/\.(innerHTML|outerHTML)\s*=(?!=)([^;]*);/g)) {
      if (LITERALS.test(m[2])) literal += 1;
      else problems.push(`${where}: .${m[1]} = ${m[2].trim().slice(0, 80)}`);
    }
    for (const m of text.matchAll(/\b(insertAdjacentHTML|document\.write(?:ln)?|eval|new\s+Function)\s*\(|\b(setTimeout|setInterval)\s*\(\s*['"`]/g)) {
      problems.push(`${where}: ${m[0]}`);
    }
  }
  console.log(`  ${files.length} files of web/src read; ${literal} innerHTML/outerHTML assignments, each of literals only; ${problems.length} problems`);
  assert.ok(files.length > 50, `${files.length} files`);
  assert.deepEqual(problems, []);
});
