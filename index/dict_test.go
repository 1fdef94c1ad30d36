package index

import "testing"

func TestIDCache(t *testing.T) {
	key := func(set, i int) recipKey { return recipKey{h: int64(i), m: uint64(set)} }
	c := newIDCache(cacheMinSets * cacheWays)
	// One set over-full: the least recently used entry goes.
	for i := 1; i <= cacheWays; i++ {
		c.put(key(3, i), int64(i))
	}
	if _, ok := c.get(key(3, 1)); !ok { // used again: now the most recent
		t.Fatal("an entry of a full set is missing")
	}
	c.put(key(3, 100), 100)
	if _, ok := c.get(key(3, 2)); ok {
		t.Error("the least recently used entry is still cached")
	}
	for _, i := range []int{1, 3, cacheWays, 100} {
		if id, ok := c.get(key(3, i)); !ok || id != int64(i) {
			t.Errorf("get(%d) = %d, %v", i, id, ok)
		}
	}
	// Ids given out in the transaction stay until it commits, whatever
	// the set holds.
	c.add(key(5, 1), 7)
	for i := 2; i <= 3*cacheWays; i++ {
		c.put(key(5, i), int64(i))
	}
	if id, ok := c.get(key(5, 1)); !ok || id != 7 {
		t.Fatalf("an id given out in the transaction: get = %d, %v", id, ok)
	}
	c.committed()
	for i := 2*cacheWays + 1; i <= 3*cacheWays; i++ {
		c.put(key(5, i), int64(i))
	}
	if _, ok := c.get(key(5, 1)); ok {
		t.Error("an id given out before the commit is held after it")
	}
	// The table grows to its limit, keeping what it holds.
	c = newIDCache(8 * cacheMinSets * cacheWays)
	n := 4 * cacheMinSets * cacheWays
	for i := 1; i <= n; i++ {
		c.put(recipKey{h: int64(i), m: uint64(i) * 0x9e3779b97f4a7c15}, int64(i))
	}
	if len(c.sets) != 8*cacheMinSets {
		t.Errorf("%d sets after %d entries, want %d", len(c.sets), n, 8*cacheMinSets)
	}
	lost := 0
	for i := 1; i <= n; i++ {
		if id, ok := c.get(recipKey{h: int64(i), m: uint64(i) * 0x9e3779b97f4a7c15}); !ok {
			lost++
		} else if id != int64(i) {
			t.Fatalf("get(%d) = %d", i, id)
		}
	}
	if c.n != n-lost || lost > n/100 {
		t.Errorf("%d of %d entries lost at half the limit; %d counted", lost, n, c.n)
	}
	c.clear()
	if _, ok := c.get(recipKey{h: 1, m: 0x9e3779b97f4a7c15}); ok || c.n != 0 {
		t.Error("cleared, and still holding entries")
	}
}

func TestIDCacheShrink(t *testing.T) {
	c := newIDCache(2 * cacheMinSets * cacheWays)
	key := func(set, i int) recipKey { return recipKey{h: int64(set*100 + i), m: uint64(set)} }
	// Fill to two tables' worth of sets; sets 7 and 7+cacheMinSets merge.
	for set := range 2 * cacheMinSets {
		for i := 1; i <= 6; i++ {
			c.put(key(set, i), int64(set*100+i))
		}
	}
	if len(c.sets) != 2*cacheMinSets {
		t.Fatalf("%d sets, want %d", len(c.sets), 2*cacheMinSets)
	}
	before := c.bytes()
	if !c.shrink() {
		t.Fatal("shrink refused a table above the smallest")
	}
	if len(c.sets) != cacheMinSets || c.bytes() != before/2 {
		t.Fatalf("after shrink: %d sets, %d bytes; want %d, %d", len(c.sets), c.bytes(), cacheMinSets, before/2)
	}
	// The most recently used of each merged set stay, in turn: 6, 5, 4, 3
	// of both.
	for _, set := range []int{7, 7 + cacheMinSets} {
		for i := 1; i <= 6; i++ {
			_, ok := c.get(key(set, i))
			if want := i >= 3; ok != want {
				t.Errorf("set %d entry %d cached %v, want %v", set, i, ok, want)
			}
		}
	}
	if c.n != cacheMinSets*cacheWays {
		t.Errorf("%d entries counted, want %d", c.n, cacheMinSets*cacheWays)
	}
	// It does not grow back, and stops at the smallest table.
	for i := range 4 * cacheMinSets * cacheWays {
		c.put(recipKey{h: int64(i), m: uint64(i) * 0x9e3779b97f4a7c15}, int64(i+1))
	}
	if len(c.sets) != cacheMinSets {
		t.Errorf("%d sets after more entries, want %d", len(c.sets), cacheMinSets)
	}
	if c.shrink() {
		t.Error("shrink went below the smallest table")
	}
}

// Ids given out in the open transaction stay found until it commits,
// whatever comes after them: more entries of their set, a set full of
// them, the table's growth and its shrinking. Once committed, they go as
// any other.
func TestIDCachePins(t *testing.T) {
	// Keys of sets a and b, which move when the table doubles, and of their
	// partners when it halves again.
	a, b := 3|cacheMinSets, 5|cacheMinSets
	aa, bb := 3, 5
	key := func(m, i int) recipKey { return recipKey{h: int64(m*1000 + i), m: uint64(m)} }
	found := func(c *idCache, what string, m int, ids ...int) {
		t.Helper()
		for _, i := range ids {
			if id, ok := c.get(key(m, i)); !ok || id != int64(m*1000+i) {
				t.Errorf("%s: get(%d, %d) = %d, %v", what, m, i, id, ok)
			}
		}
	}
	cache := newIDCache(4 * cacheMinSets * cacheWays)
	c := &cache
	// A set pinned full keeps one more given out in added, and caches no
	// stored entry.
	for i := 1; i <= cacheWays+2; i++ {
		c.add(key(a, i), int64(a*1000+i))
	}
	for i := 100; i < 100+3*cacheWays; i++ {
		c.put(key(a, i), int64(a*1000+i))
	}
	if len(c.added) != 2 {
		t.Errorf("%d ids given out in added, want the 2 a full set had no room for", len(c.added))
	}
	found(c, "a set pinned full", a, 1, 2, cacheWays, cacheWays+1, cacheWays+2)
	// One pinned among stored entries stays while they come and go.
	c.add(key(b, 1), int64(b*1000+1))
	for i := 2; i <= 4*cacheWays; i++ {
		c.put(key(b, i), int64(b*1000+i))
	}
	found(c, "among stored entries", b, 1)
	// The table doubles, and the two sets move: the pins hold.
	for i := 1; len(c.sets) == cacheMinSets; i++ {
		c.put(recipKey{h: int64(1e6 + i), m: uint64(i) * 0x9e3779b97f4a7c15}, int64(1e6+i))
	}
	for i := 2; i <= 4*cacheWays; i++ {
		c.put(key(b, i), int64(b*1000+i))
	}
	found(c, "after the table grew", b, 1)
	found(c, "after the table grew", a, 1, cacheWays+2)
	unpinned := func(when string) {
		t.Helper()
		c.committed()
		if len(c.added) != 0 || len(c.pinned) != 0 {
			t.Fatalf("%s: %d in added, %d sets pinned", when, len(c.added), len(c.pinned))
		}
		for i := range c.sets {
			for j := range c.sets[i] {
				if c.sets[i][j].pinnedEntry() {
					t.Fatalf("%s: set %d entry %d is pinned", when, i, j)
				}
			}
		}
	}
	unpinned("committed after the table grew")
	// The table halves, merging sets of pinned entries: what has no room
	// goes to added.
	for _, m := range []int{a, b, aa, bb} {
		for i := 1; i <= cacheWays; i++ {
			c.add(key(m, i), int64(m*1000+i))
		}
	}
	if !c.shrink() {
		t.Fatal("shrink refused")
	}
	if len(c.added) != 2*cacheWays {
		t.Errorf("%d ids given out in added after the table shrank, want %d", len(c.added), 2*cacheWays)
	}
	for _, m := range []int{a, b, aa, bb} {
		found(c, "after the table shrank", m, 1, 2, cacheWays)
	}
	// Committed: nothing is held, and newer entries push them out.
	unpinned("committed after the table shrank")
	for i := 100; i < 100+3*cacheWays; i++ {
		c.put(key(a, i), int64(a*1000+i))
		c.put(key(b, i), int64(b*1000+i))
	}
	for _, k := range []recipKey{key(a, 1), key(a, cacheWays+2), key(b, 1), key(aa, 1)} {
		if _, ok := c.get(k); ok {
			t.Errorf("%v is held after the commit", k)
		}
	}
}
