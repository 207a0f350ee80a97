// The recipes' command lines: `--name value` pairs only. parseFlags(argv,
// { '--model': 'model', ... }, { required: ['model'], defaults: {...} })
// returns { model: '...' } (strings; each script checks its numbers), and
// throws on a flag without a value, an unknown flag or a missing one.
export function parseFlags(argv, names, { required = [], defaults = {} } = {}) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!(flag in names)) throw new Error(`unknown option ${flag}`);
    if (value === undefined) throw new Error(`${flag} needs a value`);
    o[names[flag]] = value;
  }
  for (const key of required) {
    if (o[key] === undefined) {
      const flag = Object.keys(names).find((f) => names[f] === key);
      throw new Error(`missing ${flag}`);
    }
  }
  return o;
}
