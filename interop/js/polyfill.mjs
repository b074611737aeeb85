// Node 20 lacks Promise.withResolvers (Node 22+), which libp2p's it-queue and mortice use.
// @waku/* declare engines.node >= 22; this is the only gap we found (spec/js-waku.md).
// Must be imported before anything from libp2p or @waku.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
