/**
 * Calls back once the next frame is painted: a message posted from
 * requestAnimationFrame is handled after that frame's paint. rAF does not
 * run in a hidden page or a throttled iframe, so a timer stands in there.
 */
export function afterNextPaint(callback: () => void): void {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    window.clearTimeout(timer);
    callback();
  };
  const timer = window.setTimeout(run, 100);
  requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      run();
    };
    channel.port2.postMessage(null);
  });
}
