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
