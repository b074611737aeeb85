package store

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/internal/backoff"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store/pb"
)

// Resume defaults: how far back a node with an empty archive asks (nwaku looks back a day),
// and how many pages one pass follows at most (a store that never ends its cursor chain
// cannot keep the node busy for ever).
const (
	DefaultResumeWindow   = 24 * time.Hour
	DefaultResumeMaxPages = 10_000
)

// ResumeArchive is what resume needs of the local archive.
type ResumeArchive interface {
	// Newest is the timestamp (ns) of the newest archived message, 0 when empty.
	Newest(ctx context.Context) (int64, error)
	// InsertHistorical stores a fetched message, outside the ±20 s window of live traffic.
	InsertHistorical(ctx context.Context, e *message.Envelope) error
}

// Pager runs a store query and follows its cursors (*Client does).
type Pager interface {
	Pages(ctx context.Context, p peer.ID, req *pb.StoreQueryRequest) iter.Seq2[*pb.StoreQueryResponse, error]
}

// ResumeConfig is what one resume needs; Archive, Pager, Peer and Topics are required.
type ResumeConfig struct {
	Archive ResumeArchive
	Pager   Pager
	// Peer resolves the store node to ask (--storenode, or one the peer manager selects).
	Peer func(ctx context.Context) (peer.ID, error)
	// Validator is the node's one validation path (message rules, cluster, served shards):
	// only what it accepts is taken. Timestamps are checked against the resume window instead.
	Validator message.Validator
	// Window bounds how far back an empty archive asks; 0 = DefaultResumeWindow.
	Window time.Duration
	// MaxPages bounds the pages one pass follows; 0 = DefaultResumeMaxPages.
	MaxPages int
	// Now is the clock; nil = time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Reasons a fetched message is not archived (the keys of ResumeResult.Rejected).
const (
	RejectNoMessage = "no_message"
	RejectTopic     = "topic"
	RejectHash      = "hash"
	RejectInvalid   = "invalid"
	RejectTimestamp = "timestamp"
	RejectArchive   = "archive"
)

// ResumeResult is what one pass did.
type ResumeResult struct {
	Stored   int            // messages handed to the archive
	Rejected map[string]int // messages refused, by reason
}

// Resume asks the store node for every message since the newest one archived here (less the
// 20 s a message may lag its timestamp, and at most Window back) on the shards this node
// relays, validates each one and archives it. A message that fails validation is counted,
// never stored: a hostile store node cannot fill the archive with what relay would refuse.
func Resume(ctx context.Context, cfg ResumeConfig) (ResumeResult, error) {
	res := ResumeResult{Rejected: map[string]int{}}
	now := time.Now()
	if cfg.Now != nil {
		now = cfg.Now()
	}
	window := cfg.Window
	if window <= 0 {
		window = DefaultResumeWindow
	}
	maxPages := cfg.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultResumeMaxPages
	}
	newest, err := cfg.Archive.Newest(ctx)
	if err != nil {
		return res, fmt.Errorf("store resume: newest archived message: %w", err)
	}
	start := now.Add(-window).UnixNano()
	if newest > 0 {
		start = max(start, newest-int64(message.DefaultMaxTimeDrift))
	}
	p, err := cfg.Peer(ctx)
	if err != nil {
		return res, fmt.Errorf("store resume: %w", err)
	}
	v := historyValidator{validator: cfg.Validator, start: start, end: now.Add(message.DefaultMaxTimeDrift).UnixNano()}
	req := &pb.StoreQueryRequest{IncludeData: true, TimeStart: &start, PaginationForward: true}
	pages := 0
	for page, err := range cfg.Pager.Pages(ctx, p, req) {
		if err != nil {
			return res, fmt.Errorf("store resume from %s: %w", p, err)
		}
		for _, kv := range page.GetMessages() {
			env, reason := v.admit(kv, now.UnixNano())
			if reason == "" {
				if err := cfg.Archive.InsertHistorical(ctx, env); err != nil {
					reason = RejectArchive
				}
			}
			if reason != "" {
				res.Rejected[reason]++
				continue
			}
			res.Stored++
		}
		if pages++; pages >= maxPages {
			return res, fmt.Errorf("store resume from %s: stopped after %d pages", p, pages)
		}
	}
	return res, nil
}

// historyValidator is the one check every fetched message passes before the archive: the
// node's validation path (rules, cluster, served shard), the hash the store advertised, and a
// timestamp inside what we asked for.
type historyValidator struct {
	validator  message.Validator
	start, end int64 // accepted timestamps, ns
}

func (v historyValidator) admit(kv *pb.WakuMessageKeyValue, receivedAt int64) (*message.Envelope, string) {
	if kv.GetMessage() == nil {
		return nil, RejectNoMessage
	}
	topic := kv.GetPubsubTopic()
	if topic == "" || (v.validator.Served != nil && !v.validator.Served(topic)) {
		return nil, RejectTopic // a named shard we relay: never autosharded from history
	}
	env, err := v.validator.Validate(topic, kv.GetMessage(), receivedAt)
	if err != nil {
		return nil, RejectInvalid
	}
	if string(env.Hash[:]) != string(kv.GetMessageHash()) {
		return nil, RejectHash
	}
	if ts := env.Message.GetTimestamp(); ts < v.start || ts > v.end {
		return nil, RejectTimestamp
	}
	return env, ""
}

// RunResume runs Resume until one pass succeeds or ctx ends, backing off (1 s doubling with
// full jitter up to 1 min) between failures. It logs each pass and, once per cause, what was refused.
func RunResume(ctx context.Context, cfg ResumeConfig) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	retry := backoff.New(time.Second, time.Minute)
	for {
		res, err := Resume(ctx, cfg)
		for reason, n := range res.Rejected {
			log.Warn("store resume: messages refused", "reason", reason, "count", n)
		}
		if err == nil {
			log.Info("store resume done", "messages", res.Stored)
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait := retry.Delay()
		log.Warn("store resume failed, retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
