package importer

import "testing"

func TestCommitEveryGrowsWithTheImport(t *testing.T) {
	auto := &Importer{}
	for _, c := range []struct{ read, want int }{
		{0, DefaultCommitEvery}, {999_999, DefaultCommitEvery}, {1_500_000, 300_000},
		{2_000_000, MaxCommitEvery}, {50_000_000, MaxCommitEvery},
	} {
		if got := auto.commitEvery(c.read); got != c.want {
			t.Errorf("after %d records: commit every %d, want %d", c.read, got, c.want)
		}
	}
	// A size given is kept.
	fixed := &Importer{o: Options{CommitEvery: 7}, fixed: true}
	if got := fixed.commitEvery(5_000_000); got != 7 {
		t.Errorf("CommitEvery 7: commit every %d after 5M records", got)
	}
}
