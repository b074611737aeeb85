// Cross-check of wakunode's sds package against unmodified @waku/sds 0.0.8. Reads one JSON
// object on stdin: {ids: [string], goBloom: hex, goMessages: [hex]}; prints one JSON line:
// the js bloom filter after inserting ids (hex), whether js finds every id in Go's filter,
// and for each Go message js's decoded class and re-encoding (hex).
import { BloomFilter, Message, MessageChannel, MessageChannelEvent, isContentMessage, isSyncMessage, isEphemeralMessage } from "@waku/sds";
import { DefaultBloomFilter } from "./node_modules/@waku/sds/dist/bloom_filter/bloom.js";
import { DEFAULT_BLOOM_FILTER_OPTIONS } from "./node_modules/@waku/sds/dist/message_channel/message_channel.js";

const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));

let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);

const bloom = new DefaultBloomFilter(DEFAULT_BLOOM_FILTER_OPTIONS);
for (const id of req.ids) bloom.insert(id);
const goBloom = DefaultBloomFilter.fromBytes(unhex(req.goBloom), DEFAULT_BLOOM_FILTER_OPTIONS);

const messages = req.goMessages.map((m) => {
  const d = Message.decode(unhex(m));
  if (!d) return { class: "invalid" };
  const cls = isContentMessage(d) ? "content" : isEphemeralMessage(d) ? "ephemeral" : isSyncMessage(d) ? "sync" : "other";
  return { class: cls, reencoded: hex(d.encode()) };
});

// channelFeed: Go messages pushed, in order, into a js MessageChannel ("chan", participant
// "js"); js reports what it found missing and delivered, then sends one message of its own.
const missing = [];
const delivered = [];
let jsSent = "";
if (req.channelFeed) {
  const ch = new MessageChannel("chan", "js");
  ch.addEventListener(MessageChannelEvent.InMessageMissing, (e) => { for (const h of e.detail) missing.push(h.messageId); });
  ch.addEventListener(MessageChannelEvent.InMessageDelivered, (e) => delivered.push(e.detail));
  for (const m of req.channelFeed) {
    ch.pushIncomingMessage(Message.decode(unhex(m)), undefined);
    await ch.processTasks();
  }
  ch.sweepIncomingBuffer();
  ch.pushOutgoingMessage(new TextEncoder().encode("from js"), async (m) => { jsSent = hex(m.encode()); return { success: true }; });
  await ch.processTasks();
}

console.log(JSON.stringify({
  missing, delivered, jsSent,
  bloom: hex(bloom.toBytes()),
  goBloomHasAll: req.ids.every((id) => goBloom.lookup(id)),
  bloomClass: typeof BloomFilter,
  messages,
}));
