package archive

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

// explain returns the plan the database picks for q, one line per plan node.
func explain(t *testing.T, a *Archive, q Query) string {
	t.Helper()
	ctx := context.Background()
	var curTS int64
	if q.Cursor != nil {
		if err := a.db.queryRow(ctx, "SELECT ts FROM messages WHERE hash = "+a.db.ph(1), q.Cursor[:]).Scan(&curTS); err != nil {
			t.Fatal(err)
		}
	}
	text, args := buildQuery(a.db, q, curTS)
	_, pg := a.db.(*pgDB)
	prefix := "EXPLAIN QUERY PLAN "
	if pg {
		prefix = "EXPLAIN "
	}
	rs, err := a.db.query(ctx, prefix+text, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", text, err)
	}
	defer rs.Close()
	var lines []string
	for rs.Next() {
		var (
			line           string
			id, parent, nu int64
		)
		dest := []any{&id, &parent, &nu, &line}
		if pg {
			dest = []any{&line}
		}
		if err := rs.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// Every query shape nwaku answers seeks an index chosen for it, never a scan of the table:
// checked on a store where the asked-for shard and content topic are rare (1%), so a plan
// that walked another index and filtered would read 100 rows per row returned.
func TestQueryShapesUseIndexes(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		a := open(t, dbURL, func(c *Config) { c.BatchSize = 5000 })
		const n = 20_000
		base := testNow.Add(-15 * time.Second).UnixNano()
		var rare []*message.Envelope
		for i := range n {
			shard, ct := fmt.Sprintf("/waku/2/rs/1/%d", i%4), fmt.Sprintf("/app/1/t%d/proto", i%50)
			if i%100 == 7 {
				shard = "/waku/2/rs/1/7"
			}
			if i%100 == 42 {
				ct = "/rare/1/x/proto"
			}
			e := env(t, shard, ct, base+int64(i)*1000, fmt.Sprint(i))
			if i%100 == 7 {
				rare = append(rare, e)
			}
			if err := a.Insert(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		// PostgreSQL's autovacuum keeps statistics; the node never runs ANALYZE on SQLite, so
		// its planner is checked without them, as in production.
		_, pg := a.db.(*pgDB)
		if pg {
			if _, err := a.db.exec(context.Background(), "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		pk := "sqlite_autoindex_messages_1"
		if pg {
			pk = "messages_pkey"
		}
		from, to := base+int64(n/4)*1000, base+int64(n/2)*1000
		cur := rare[10].Hash
		var twenty []message.Hash // a full presence-check page
		for _, e := range rare[:20] {
			twenty = append(twenty, e.Hash)
		}
		for _, tc := range []struct {
			name  string
			q     Query
			index string
		}{
			{"pubsub topic only", Query{PubsubTopic: "/waku/2/rs/1/7"}, "messages_pubsub_ts"},
			{"pubsub topic and time", Query{PubsubTopic: "/waku/2/rs/1/7", TimeStart: &from, TimeEnd: &to}, "messages_pubsub_ts"},
			{"pubsub topic from cursor", Query{PubsubTopic: "/waku/2/rs/1/7", Cursor: &cur}, "messages_pubsub_ts"},
			{"content topic only", Query{ContentTopics: []string{"/rare/1/x/proto"}}, "messages_content_ts"},
			{"content topics only", Query{ContentTopics: []string{"/rare/1/x/proto", "/rare/1/y/proto"}}, "messages_content_ts"},
			{"pubsub and content", Query{PubsubTopic: "/waku/2/rs/1/7", ContentTopics: []string{"/app/1/t7/proto"}}, "messages_topic_ts"},
			{"hashes", Query{Hashes: []message.Hash{rare[1].Hash, rare[2].Hash}}, pk},
			{"hashes and pubsub topic", Query{PubsubTopic: "/waku/2/rs/1/7", Hashes: []message.Hash{rare[1].Hash, rare[2].Hash}}, pk},
			{"twenty hashes and pubsub topic", Query{PubsubTopic: "/waku/2/rs/1/7", Hashes: twenty}, pk},
			{"nothing", Query{}, "messages_ts"},
			{"time range only", Query{TimeStart: &from, TimeEnd: &to}, "messages_ts"},
		} {
			for _, fwd := range []bool{true, false} {
				q := tc.q
				q.Forward, q.Limit, q.IncludeData = fwd, 20, true
				plan := explain(t, a, q)
				full := strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "SCAN messages\n") || strings.HasSuffix(plan, "SCAN messages")
				if !strings.Contains(plan, tc.index) || full {
					t.Errorf("%s (forward=%v): plan does not seek %s:\n%s", tc.name, fwd, tc.index, plan)
				}
			}
			// The plan is also the right answer.
			p, err := a.Query(context.Background(), Query{PubsubTopic: tc.q.PubsubTopic, ContentTopics: tc.q.ContentTopics,
				TimeStart: tc.q.TimeStart, TimeEnd: tc.q.TimeEnd, Hashes: tc.q.Hashes, Forward: true, Limit: 5, IncludeData: true})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for _, e := range p.Entries {
				if tc.q.PubsubTopic != "" && e.PubsubTopic != tc.q.PubsubTopic ||
					len(tc.q.ContentTopics) > 0 && e.Message.GetContentTopic() != tc.q.ContentTopics[0] {
					t.Fatalf("%s: entry on %s %s", tc.name, e.PubsubTopic, e.Message.GetContentTopic())
				}
			}
			if len(p.Entries) == 0 {
				t.Fatalf("%s: no entries", tc.name)
			}
		}
	})
}
