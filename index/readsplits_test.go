package index

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/analyze"
)

// splitEvents are a day's events from two IPs with tag sets that overlap.
func splitEvents() []maildiag.Event {
	var evs []maildiag.Event
	for i := range 6 {
		rcpt := fmt.Sprintf("u%d@a.example", i)
		tags := []string{"welcome"}
		if i%2 == 1 {
			tags = []string{"welcome", "promo"}
		}
		acc := ev(maildiag.Accepted, fmt.Sprint("acc", i), rcpt, at(time.Duration(i)*time.Minute))
		acc.Tags = tags
		typ := maildiag.Delivered
		if i >= 4 {
			typ = maildiag.Failed
		}
		fin := ev(typ, fmt.Sprint("fin", i), rcpt, at(time.Duration(i)*time.Minute+time.Second))
		fin.Tags, fin.SendingIP = tags, "10.0.0.1"
		if i == 5 {
			fin.SendingIP = "10.0.0.2"
		}
		evs = append(evs, acc, fin)
	}
	return evs
}

func splitKeyed(cs []analyze.SplitCount) map[string]int64 {
	out := map[string]int64{}
	for _, c := range cs {
		out[fmt.Sprintf("%s %s %s %s", c.By, c.Name, c.Type, c.Outcome)] += c.N
	}
	return out
}

// SplitCounts counts by IP and by each tag of a set, the same from the
// counts kept at ingest, from the events of a recipient domain, and after
// the migration derived them from an index stored without them.
func TestSplitCounts(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpen(t)
	w := mustWriter(t, db)
	add(t, w, splitEvents()...)
	w.Close()
	want := map[string]int64{
		"ip 10.0.0.1 delivered ": 4, "ip 10.0.0.1 failed permanent": 1, "ip 10.0.0.2 failed permanent": 1,
		"tag welcome accepted ": 6, "tag welcome delivered ": 4, "tag welcome failed permanent": 2,
		"tag promo accepted ": 3, "tag promo delivered ": 2, "tag promo failed permanent": 1,
	}
	q := analyze.SplitQuery{From: time.UnixMicro(at(-time.Hour)), Until: time.UnixMicro(at(time.Hour))}
	check := func(name string, db *DB, q analyze.SplitQuery, want map[string]int64) {
		t.Helper()
		cs, err := db.SplitCounts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := splitKeyed(cs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	check("counts kept at ingest", db, q, want)
	rq := q
	rq.RecipientDomains = []string{"a.example"}
	check("events of a.example", db, rq, want)
	rq.RecipientDomains = []string{"b.example"}
	check("a domain with no mail", db, rq, map[string]int64{})
	sq := q
	sq.SendingDomains = []string{"other.example.com"}
	check("another sending domain", db, sq, map[string]int64{})
	next := q
	next.From, next.Until = q.From.Add(48*time.Hour), q.Until.Add(48*time.Hour)
	check("another day", db, next, map[string]int64{})

	var tags [][]string
	if err := db.Failures(ctx, analyze.FailureFilter{}, func(f *analyze.Failure) error {
		tags = append(tags, slices.Clone(f.Tags))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(tags) != "[[welcome] [welcome promo]]" {
		t.Errorf("failures' tags %v, want [[welcome] [welcome promo]]", tags)
	}

	// An index stored before 0007: the migration derives what it adds.
	for _, s := range []string{`DROP TABLE split_counts`, `ALTER TABLE failures DROP COLUMN tags_id`, `DELETE FROM schema_migrations WHERE version = 7`} {
		if _, err := db.sql.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	check("derived by the migration", db2, q, want)
	if n := count(t, db2, `SELECT COUNT(*) FROM failures WHERE tags_id IS NOT NULL`); n != 2 {
		t.Errorf("%d failures with their tags after the migration, want 2", n)
	}
}
