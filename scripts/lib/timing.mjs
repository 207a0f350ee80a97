// Median wall and CPU milliseconds of `runs` calls of fn, after one warm-up
// call. CPU time is this process's: on a shared machine it shows the wall
// time an idle one would give. Used by the benchmarks in bench/.
export function medianMs(fn, runs) {
  fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { wall: median(wall), cpu: median(cpu) };
}

// Medians of `runs` calls of each function in `fns` (a name -> function
// object), the calls interleaved (a, b, a, b, ...) after one warm-up each, so
// that a change in the machine's load falls on all of them alike: for
// before/after ratios measured in the same run. Returns name -> { wall, cpu }.
export function medianMsInterleaved(fns, runs) {
  const names = Object.keys(fns);
  const samples = Object.fromEntries(names.map((n) => [n, { wall: [], cpu: [] }]));
  for (const n of names) fns[n]();
  for (let i = 0; i < runs; i++) {
    for (const n of names) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fns[n]();
      samples[n].wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      samples[n].cpu.push((c.user + c.system) / 1e3);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return Object.fromEntries(names.map((n) => [n, { wall: median(samples[n].wall), cpu: median(samples[n].cpu) }]));
}
