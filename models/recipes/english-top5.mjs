// The top 5 next tokens of a model on ten plain English prompts, as a
// markdown table (models/README.md, "English predictions"): how a reader
// first judges whether a model "knows English".
//   node models/recipes/english-top5.mjs --model models/gpt-4l
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROMPTS = [
  'The cat sat on the',
  'I went to the store to buy some',
  'She opened the door and',
  'The president of the United',
  'It was a cold winter',
  'He drank a cup of',
  'Thank you very',
  'The children played in the',
  'Once upon a',
  'We will meet again next',
];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const model = args[args.indexOf('--model') + 1];
if (args.indexOf('--model') < 0 || !model) {
  console.error('usage: node models/recipes/english-top5.mjs --model DIR');
  process.exit(2);
}
const bin = path.resolve(ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
// A token as the page shows it: a leading space as a middle dot.
const show = (token) => `\`${token.replace(/^ /, '·').replace(/\n/g, '\\n').replace(/`/g, "'")}\``;

console.log(`| prompt (${path.basename(model)}) | top 5 next tokens |`);
console.log('| --- | --- |');
for (const prompt of PROMPTS) {
  const out = JSON.parse(execFileSync(bin, ['run', '--model', model, '--text', prompt, '--top-k', '5', '--json']).toString());
  const last = out.top_k[out.top_k.length - 1];
  console.log(`| ${prompt} | ${last.map((x) => `${show(x.token)} ${(100 * x.prob).toFixed(0)}%`).join(', ')} |`);
}
