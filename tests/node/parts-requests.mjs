// Driving a computation the worker runs in parts (the copying scores, the
// syntax probe) to its end a request at a time, as the page does, with the
// checks every such run must pass, and the line the tests print about it.
import assert from 'node:assert/strict';

/**
 * Calls next() (one request: an object with cancelled, done, parts_done,
 * parts_total, work_done, work_total, compute_ms) until done. Progress
 * moves with every request, and every request but the first `startRequests`
 * (which may only begin the run) runs at least one engine part. Returns the
 * last reply and each request's compute ms.
 */
export function requestsToEnd(next, startRequests = 0) {
  const times = [];
  let reply;
  let fraction = -1;
  do {
    reply = next();
    times.push(reply.compute_ms);
    assert.equal(reply.cancelled, false);
    const f = reply.work_done / reply.work_total;
    assert.ok(f > fraction, `progress moves (${f} after ${fraction})`);
    fraction = f;
    assert.ok(times.length <= reply.parts_total + startRequests, 'at least one engine part a request');
  } while (!reply.done);
  assert.equal(reply.parts_done, reply.parts_total);
  assert.equal(reply.work_done, reply.work_total);
  return { reply, times };
}

/** "N requests, X ms of compute, longest Y ms, mean Z ms". */
export function requestsSummary(times) {
  const sum = times.reduce((a, b) => a + b, 0);
  return `${times.length} requests, ${sum.toFixed(0)} ms of compute, longest ${Math.max(...times).toFixed(0)} ms, ` +
    `mean ${(sum / times.length).toFixed(0)} ms`;
}
