// Unmodified js-waku (@waku/sdk 0.0.36, stock libp2p stack: websockets + noise + mplex only)
// against a wakunode service node. Usage:
//
//   node lightclient.mjs /ip4/127.0.0.1/tcp/<port>/ws/p2p/<id> [cluster] [shard|auto:<numShards>] [count] [pageSize] [idleMs]
//
// With a shard number the light node uses static sharding (networkConfig { clusterId }, the
// encoder's shardId); with auto:<n> it uses autosharding (networkConfig { clusterId,
// numShardsInCluster: n }) and js-waku derives the shard from the content topic.
//
// Prints one line `RESULT {json}` on stdout (the SDK prints banners there too) and exits 0 when
// every step passed. On failure `ok` is false and `protocol` names the protocol at fault:
// connection | identify | metadata | filter | lightpush-v3 | lightpush-v2 | store.
import "./polyfill.mjs";

const [addr, clusterArg = "16", shardArg = "3", countArg = "25", pageArg = "10", idleArg = "0"] = process.argv.slice(2);
const clusterId = Number(clusterArg);
const autoShards = shardArg.startsWith("auto:") ? Number(shardArg.slice(5)) : 0;
let shardId = autoShards ? undefined : Number(shardArg);
const count = Number(countArg);
const pageSize = Number(pageArg);
// idleMs keeps the connection idle after the handshake, as an app does before its first send:
// js-waku pre-opens one stream per protocol on identify and uses it for the first request.
const idleMs = Number(idleArg);
const contentTopic = "/wakunode-interop/1/js/proto";
const networkConfig = autoShards ? { clusterId, numShardsInCluster: autoShards } : { clusterId };
let pubsubTopic = "";

const result = { ok: false, protocol: "", error: "", sharding: autoShards ? "auto" : "static", pubsubTopic, contentTopic, steps: {} };
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
  const { createLightNode, Protocols, LightPushError, FilterError, utf8ToBytes, bytesToUtf8 } = await import("@waku/sdk");
  const { multiaddr } = await import("@multiformats/multiaddr");
  const { FilterCodecs, LightPushCodec, LightPushCodecV2, StoreCodec, MetadataCodec, createEncoder } = await import("@waku/core");

  // Stock settings except filterMultiaddrs (so /ws on 127.0.0.1 may be dialed) and the network.
  const node = await createLightNode({
    networkConfig,
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

    const encoder = node.createEncoder({ contentTopic, shardId });
    const decoder = node.createDecoder({ contentTopic, shardId });
    pubsubTopic = result.pubsubTopic = encoder.pubsubTopic;
    shardId = encoder.routingInfo.shardId;

    // metadata: js-waku only uses the peer for our shard if the response lists it (field 2).
    stage = "metadata";
    const md = await withTimeout("metadata", 10000, node.libp2p.services.metadata.confirmOrAttemptHandshake(id.peerId), "metadata query");
    if (md.error) throw fail("metadata", `query error ${md.error}`);
    result.steps.metadata = { clusterId: md.shardInfo.clusterId, shards: md.shardInfo.shards };
    if (md.shardInfo.clusterId !== clusterId || !md.shardInfo.shards.includes(shardId)) {
      throw fail("metadata", `response ${JSON.stringify(result.steps.metadata)} does not cover cluster ${clusterId} shard ${shardId}`);
    }
    await withTimeout("metadata", 10000, node.waitForPeers([Protocols.Filter, Protocols.LightPush, Protocols.Store]), "waitForPeers");

    if (idleMs > 0) {
      await sleep(idleMs);
      result.steps.idleMs = idleMs;
    }

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

    // The connection state and push count tell a lightpush fault from a connection that something
    // else (e.g. filter pushes beyond js-waku's stream limit) brought down or stalled.
    const connContext = () => {
      const conns = node.libp2p.getConnections(id.peerId).map((c) => `${c.status}, ${c.streams.length} streams`);
      return ` (connections ${JSON.stringify(conns)}, filter pushes received so far ${received.size})`;
    };

    // lightpush: alternate v3 and v2 (useLegacy).
    const sent = [];
    const lp = { v3: 0, v2: 0 };
    for (let i = 0; i < count; i++) {
      const legacy = i % 2 === 1;
      const proto = legacy ? "lightpush-v2" : "lightpush-v3";
      stage = proto;
      const payload = `js-waku ${legacy ? "v2" : "v3"} #${String(i).padStart(3, "0")}`;
      const res = await withTimeout(proto, 10000, node.lightPush.send(encoder, { payload: utf8ToBytes(payload) }, { useLegacy: legacy, autoRetry: false }), `send #${i}`)
        .catch((e) => {
          e.message += connContext();
          throw e;
        });
      if (res.successes.length !== 1 || res.failures.length !== 0) {
        throw fail(proto, `send #${i}: successes ${res.successes.length}, failures ${JSON.stringify(res.failures.map((f) => f.error))}${connContext()}`);
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

    // store v3: page back with a small page size, forward then backward. The archive may lag
    // the bus, so a short forward result is retried.
    stage = "store";
    const query = (forward) => withTimeout("store", 15000, (async () => {
      const pages = [];
      for await (const page of node.store.queryGenerator([decoder], { paginationLimit: pageSize, paginationForward: forward })) {
        const msgs = await Promise.all(page);
        const payloads = [];
        for (const m of msgs) {
          if (!m) throw fail("store", "a message could not be decoded (content topic or pubsub_topic missing?)");
          if (m.pubsubTopic !== pubsubTopic) throw fail("store", `message pubsub_topic ${JSON.stringify(m.pubsubTopic)}, want ${pubsubTopic}`);
          payloads.push(bytesToUtf8(m.payload));
        }
        pages.push(payloads);
        if (pages.length > count + 5) throw fail("store", `pagination does not end (pages ${pages.map((p) => p.length)})`);
      }
      return pages;
    })(), `${forward ? "forward" : "backward"} query`);
    let fwd = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      fwd = await query(true);
      if (fwd.flat().length >= count) break;
      await sleep(250);
    }
    const got = fwd.flat();
    result.steps.store = { pages: fwd.map((p) => p.length), messages: got.length };
    if (got.length !== count) throw fail("store", `forward: got ${got.length} messages, want ${count} (pages ${result.steps.store.pages})`);
    if (JSON.stringify(got) !== JSON.stringify(sent)) throw fail("store", `forward: order/content differs: got ${JSON.stringify(got)}`);
    if (fwd.some((p) => p.length > pageSize)) throw fail("store", `forward: page larger than pagination_limit ${pageSize}: ${result.steps.store.pages}`);
    if (count > pageSize && fwd.length < 2) throw fail("store", `forward: expected several pages, got ${result.steps.store.pages}`);
    // Backward: js-waku takes messages[0] as the next cursor, so every page must be in ascending
    // order and hold the newest entries before the cursor.
    const bwd = await query(false);
    result.steps.store.backwardPages = bwd.map((p) => p.length);
    const wantPages = [];
    for (let end = sent.length; end > 0; end -= pageSize) wantPages.push(sent.slice(Math.max(0, end - pageSize), end));
    if (JSON.stringify(bwd) !== JSON.stringify(wantPages)) {
      throw fail("store", `backward pages ${JSON.stringify(bwd)}, want ${JSON.stringify(wantPages)}`);
    }

    // filter subscriber ping (js-waku pings every 60 s; called directly here): 200 while subscribed.
    stage = "filter";
    const filterCore = node.filter.protocol;
    const ping = await withTimeout("filter", 10000, filterCore.ping(id.peerId), "subscriber ping");
    if (ping.failure) throw fail("filter", `subscriber ping while subscribed: ${ping.failure.error}`);
    result.steps.filter.ping = "ok";

    // lightpush rejection: a message with 65 bytes of meta (nwaku's decoder refuses more than
    // 64) is refused by the node's validation; js-waku must see a well-formed rejection
    // (REMOTE_PEER_REJECTED), not a broken stream, on v3 and v2. (An old timestamp is no
    // rejection: nwaku's relay has no timestamp rule, only its archive does.)
    const badEncoder = createEncoder({ contentTopic: encoder.contentTopic, routingInfo: encoder.routingInfo,
      metaSetter: () => new Uint8Array(65) });
    const rejected = {};
    for (const legacy of [false, true]) {
      const proto = legacy ? "lightpush-v2" : "lightpush-v3";
      stage = proto;
      const invalid = { payload: utf8ToBytes(`invalid ${proto}`) };
      const res = await withTimeout(proto, 10000, node.lightPush.send(badEncoder, invalid, { useLegacy: legacy, autoRetry: false }), "invalid send");
      const errs = res.failures.map((f) => f.error);
      if (res.successes.length !== 0 || errs.length !== 1 || errs[0] !== LightPushError.REMOTE_PEER_REJECTED) {
        throw fail(proto, `invalid message: successes ${res.successes.length}, failures ${JSON.stringify(errs)}, want one "Remote peer rejected"`);
      }
      rejected[legacy ? "v2" : "v3"] = errs[0];
    }
    result.steps.lightpush.rejected = rejected;

    // filter unsubscribe (js-waku sends it without reading the answer), then ping answers 404.
    stage = "filter";
    if (!(await withTimeout("filter", 10000, node.filter.unsubscribe(decoder), "unsubscribe"))) {
      throw fail("filter", "unsubscribe returned false");
    }
    let after;
    for (let attempt = 0; attempt < 40; attempt++) {
      after = await withTimeout("filter", 10000, filterCore.ping(id.peerId), "ping after unsubscribe");
      if (after.failure) break;
      await sleep(100);
    }
    if (!after.failure || after.failure.error !== FilterError.REMOTE_PEER_REJECTED) {
      throw fail("filter", `ping after unsubscribe: ${JSON.stringify(after.failure ?? "200")}, want a rejection (404)`);
    }
    result.steps.filter.unsubscribed = true;

    // Rejected messages reached neither filter nor store.
    stage = "store";
    const final = (await query(true)).flat();
    if (final.length !== count) throw fail("store", `after the invalid sends: ${final.length} messages, want ${count}`);
    if (received.size !== count) throw fail("filter", `after the invalid sends: ${received.size} pushes, want ${count}`);

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
