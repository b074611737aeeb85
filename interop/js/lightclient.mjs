// Unmodified js-waku (@waku/sdk 0.0.36, stock libp2p stack: websockets + noise + mplex only)
// against a wakunode service node. Usage:
//
//   node lightclient.mjs /ip4/127.0.0.1/tcp/<port>/ws/p2p/<id> [cluster] [shard] [count] [pageSize]
//
// Prints one line `RESULT {json}` on stdout (the SDK prints banners there too) and exits 0 when
// every step passed. On failure `ok` is false and `protocol` names the protocol at fault:
// connection | identify | metadata | filter | lightpush-v3 | lightpush-v2 | store.
import "./polyfill.mjs";

const [addr, clusterArg = "16", shardArg = "3", countArg = "25", pageArg = "10"] = process.argv.slice(2);
const clusterId = Number(clusterArg);
const shardId = Number(shardArg);
const count = Number(countArg);
const pageSize = Number(pageArg);
const pubsubTopic = `/waku/2/rs/${clusterId}/${shardId}`;
const contentTopic = "/wakunode-interop/1/js/proto";

const result = { ok: false, protocol: "", error: "", pubsubTopic, contentTopic, steps: {} };
let stage = "setup";

function fail(protocol, error) {
  const e = new Error(error);
  e.protocol = protocol;
  return e;
}

// withTimeout names the protocol whose step did not finish.
function withTimeout(protocol, ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(fail(protocol, `timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  if (!addr) throw fail("setup", "usage: lightclient.mjs <multiaddr> [cluster] [shard] [count] [pageSize]");
  const { createLightNode, Protocols, utf8ToBytes, bytesToUtf8 } = await import("@waku/sdk");
  const { multiaddr } = await import("@multiformats/multiaddr");
  const { FilterCodecs, LightPushCodec, LightPushCodecV2, StoreCodec, MetadataCodec } = await import("@waku/core");

  // Stock settings except filterMultiaddrs (so /ws on 127.0.0.1 may be dialed) and the network.
  const node = await createLightNode({
    networkConfig: { clusterId },
    libp2p: { filterMultiaddrs: false, hideWebSocketInfo: true },
  });
  try {
    const ma = multiaddr(addr);
    const peerId = ma.getPeerId();

    // connection: websocket + noise + mplex.
    stage = "connection";
    const identified = new Promise((resolve) => {
      node.libp2p.addEventListener("peer:identify", (evt) => {
        if (evt.detail.peerId.toString() === peerId) resolve(evt.detail);
      });
    });
    const conn = await withTimeout("connection", 10000, node.libp2p.dial(ma), `dial ${addr}`);
    result.steps.connection = { muxer: conn.multiplexer, encryption: conn.encryption, remote: conn.remoteAddr.toString() };
    if (conn.multiplexer !== "/mplex/6.7.0") throw fail("connection", `muxer ${conn.multiplexer}, want /mplex/6.7.0`);

    // identify: every codec js-waku selects peers by must be advertised.
    stage = "identify";
    const id = await withTimeout("identify", 10000, identified, "peer:identify event");
    const want = [FilterCodecs.SUBSCRIBE, LightPushCodec, LightPushCodecV2, StoreCodec, MetadataCodec];
    const missing = want.filter((c) => !id.protocols.includes(c));
    result.steps.identify = { agentVersion: id.agentVersion, protocols: id.protocols };
    if (missing.length) throw fail("identify", `remote does not advertise ${missing.join(", ")}`);

    // metadata: js-waku only uses the peer for our shard if the response lists it (field 2).
    stage = "metadata";
    const md = await withTimeout("metadata", 10000, node.libp2p.services.metadata.confirmOrAttemptHandshake(id.peerId), "metadata query");
    if (md.error) throw fail("metadata", `query error ${md.error}`);
    result.steps.metadata = { clusterId: md.shardInfo.clusterId, shards: md.shardInfo.shards };
    if (md.shardInfo.clusterId !== clusterId || !md.shardInfo.shards.includes(shardId)) {
      throw fail("metadata", `response ${JSON.stringify(result.steps.metadata)} does not cover cluster ${clusterId} shard ${shardId}`);
    }
    await withTimeout("metadata", 10000, node.waitForPeers([Protocols.Filter, Protocols.LightPush, Protocols.Store]), "waitForPeers");

    const encoder = node.createEncoder({ contentTopic, shardId });
    const decoder = node.createDecoder({ contentTopic, shardId });
    if (encoder.pubsubTopic !== pubsubTopic) throw fail("setup", `encoder pubsub topic ${encoder.pubsubTopic}`);

    // filter: subscribe; pushes are checked after sending.
    stage = "filter";
    const received = new Map();
    const badTopic = [];
    let allReceived;
    const gotAll = new Promise((r) => (allReceived = r));
    const ok = await withTimeout("filter", 10000, node.filter.subscribe(decoder, (msg) => {
      if (msg.pubsubTopic !== pubsubTopic) badTopic.push(msg.pubsubTopic);
      received.set(bytesToUtf8(msg.payload), msg.pubsubTopic);
      if (received.size >= count) allReceived();
    }), "subscribe");
    if (!ok) throw fail("filter", "subscribe returned false");
    result.steps.filter = { subscribed: true };

    // lightpush: alternate v3 and v2 (useLegacy).
    const sent = [];
    const lp = { v3: 0, v2: 0 };
    for (let i = 0; i < count; i++) {
      const legacy = i % 2 === 1;
      const proto = legacy ? "lightpush-v2" : "lightpush-v3";
      stage = proto;
      const payload = `js-waku ${legacy ? "v2" : "v3"} #${String(i).padStart(3, "0")}`;
      const res = await withTimeout(proto, 10000, node.lightPush.send(encoder, { payload: utf8ToBytes(payload) }, { useLegacy: legacy, autoRetry: false }), `send #${i}`);
      if (res.successes.length !== 1 || res.failures.length !== 0) {
        throw fail(proto, `send #${i}: successes ${res.successes.length}, failures ${JSON.stringify(res.failures.map((f) => f.error))}`);
      }
      lp[legacy ? "v2" : "v3"]++;
      sent.push(payload);
    }
    result.steps.lightpush = lp;

    stage = "filter";
    await withTimeout("filter", 10000, gotAll, `pushes (got ${received.size} of ${count})`).catch((e) => {
      e.message += `; missing ${sent.filter((p) => !received.has(p)).join(", ")}`;
      throw e;
    });
    if (badTopic.length) throw fail("filter", `pushes with pubsub_topic ${badTopic[0]}, want ${pubsubTopic}`);
    const unknown = [...received.keys()].filter((p) => !sent.includes(p));
    if (unknown.length) throw fail("filter", `unexpected pushes ${unknown.join(", ")}`);
    result.steps.filter.received = received.size;

    // store v3: page back (forward) with a small page size; the archive may lag the bus.
    stage = "store";
    let pages = [];
    let got = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      pages = [];
      got = [];
      await withTimeout("store", 15000, (async () => {
        for await (const page of node.store.queryGenerator([decoder], { paginationLimit: pageSize, paginationForward: true })) {
          const msgs = await Promise.all(page);
          pages.push(msgs.length);
          for (const m of msgs) {
            if (!m) throw fail("store", "a message could not be decoded (content topic or pubsub_topic missing?)");
            if (m.pubsubTopic !== pubsubTopic) throw fail("store", `message pubsub_topic ${JSON.stringify(m.pubsubTopic)}, want ${pubsubTopic}`);
            got.push(bytesToUtf8(m.payload));
          }
          if (pages.length > count + 5) throw fail("store", `pagination does not end (pages ${pages})`);
        }
      })(), "query");
      if (got.length >= count) break;
      await sleep(250);
    }
    result.steps.store = { pages, messages: got.length };
    if (got.length !== count) throw fail("store", `got ${got.length} messages, want ${count} (pages ${pages})`);
    if (JSON.stringify(got) !== JSON.stringify(sent)) throw fail("store", `order/content differs: got ${JSON.stringify(got)}`);
    if (pages.some((n) => n > pageSize)) throw fail("store", `page larger than pagination_limit ${pageSize}: ${pages}`);
    if (count > pageSize && pages.length < 2) throw fail("store", `expected several pages, got ${pages}`);

    result.ok = true;
  } finally {
    await withTimeout("shutdown", 5000, node.stop(), "node.stop").catch(() => {});
  }
}

main()
  .catch((e) => {
    result.protocol = e.protocol || stage;
    result.error = e.message || String(e);
  })
  .finally(() => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  });
