package index

import (
	"math"
	"unsafe"
)

// idCache maps keys (recipKey, of addresses and of texts) to ids: a table
// of sets of cacheWays entries, each set most recently used first, that
// grows by doubling up to a fixed number of entries and then drops the
// least recently used entry of a set. Two generations of Go maps held the
// same number of recipients and texts in 108 MB at a 4M-event
// transactional import; this table holds them in 48 MB.
//
// An id given out in the open transaction is pinned in its set, which
// drops only entries not pinned: until the commit the index cannot find
// it, and a second id for the same address would be given out. One whose
// set is pinned full is kept in added. A map of every id the transaction
// gave out took about 1.5% of a 1M-event transactional import's CPU.
type idCache struct {
	sets   []idSet
	n      int   // entries in sets
	limit  int   // entries sets grows to
	pinned []int // the sets that hold pinned entries, with repeats
	added  map[recipKey]int64
}

const (
	cacheWays     = 8
	cacheMinSets  = 1 << 9
	cacheGrowLoad = 3 // of 4: entries a set holds on average before the table doubles
)

type idEntry struct {
	k  recipKey // k.h has pinBit set while the entry is pinned
	id int64    // 0: an empty entry, after every used one of its set
}

// pinBit marks a pinned entry in its key's hash, which is never negative
// (finish63).
const pinBit = math.MinInt64

func (e *idEntry) pinnedEntry() bool { return e.k.h < 0 }

// is tells whether the entry holds key k.
func (e *idEntry) is(k recipKey) bool { return e.k.h&math.MaxInt64 == k.h && e.k.m == k.m }

type idSet [cacheWays]idEntry

func newIDCache(limit int) idCache {
	return idCache{sets: make([]idSet, cacheMinSets), limit: limit, added: map[recipKey]int64{}}
}

func (c *idCache) setIndex(k recipKey) int { return int(k.m & uint64(len(c.sets)-1)) }

func (c *idCache) set(k recipKey) *idSet { return &c.sets[c.setIndex(k)] }

// get returns a key's id.
func (c *idCache) get(k recipKey) (int64, bool) {
	s := c.set(k)
	for i := 0; i < cacheWays && s[i].id != 0; i++ {
		if s[i].is(k) {
			e := s[i]
			copy(s[1:i+1], s[:i])
			s[0] = e
			return e.id, true
		}
	}
	if len(c.added) == 0 {
		return 0, false
	}
	id, ok := c.added[k]
	if ok {
		c.put(k, id)
	}
	return id, ok
}

// put caches a stored key's id, first in its set.
func (c *idCache) put(k recipKey, id int64) { c.insert(idEntry{k, id}) }

// insert puts e first in its set, in place of the entry of its key or else
// of the least recently used one not pinned; false: the set is pinned full.
func (c *idCache) insert(e idEntry) bool {
	s := c.set(e.k)
	i := 0
	for i < cacheWays-1 && s[i].id != 0 && !s[i].is(e.k) {
		i++
	}
	switch {
	case s[i].id == 0:
		c.n++
	case s[i].is(e.k):
		e.k.h |= s[i].k.h & pinBit
	default: // full: the last entry not pinned goes
		for s[i].pinnedEntry() {
			if i == 0 {
				return false
			}
			i--
		}
	}
	copy(s[1:i+1], s[:i])
	s[0] = e
	if c.n*4 > len(c.sets)*cacheWays*cacheGrowLoad && len(c.sets)*cacheWays < c.limit {
		c.grow()
	}
	return true
}

// add caches the id given out to a new key, pinned until committed.
func (c *idCache) add(k recipKey, id int64) {
	pk := k
	pk.h |= pinBit
	if !c.insert(idEntry{pk, id}) {
		c.added[k] = id
		return
	}
	c.pinned = append(c.pinned, c.setIndex(k))
}

// committed drops the hold on the ids given out: the index has them now.
func (c *idCache) committed() {
	for _, i := range c.pinned {
		s := &c.sets[i]
		for j := range s {
			s[j].k.h &= math.MaxInt64
		}
	}
	c.pinned = c.pinned[:0]
	clear(c.added)
}

// repin lists again the sets that hold pinned entries, after the table
// changed size.
func (c *idCache) repin() {
	c.pinned = c.pinned[:0]
	for i := range c.sets {
		for j := range c.sets[i] {
			if c.sets[i][j].pinnedEntry() {
				c.pinned = append(c.pinned, i)
				break
			}
		}
	}
}

// grow doubles the table, each set's entries put back least recently used
// first, so that their order holds.
func (c *idCache) grow() {
	old := c.sets
	c.sets, c.n = make([]idSet, 2*len(old)), 0
	for i := range old {
		for j := cacheWays - 1; j >= 0; j-- {
			if e := old[i][j]; e.id != 0 {
				c.insert(e)
			}
		}
	}
	if len(c.pinned) > 0 {
		c.repin()
	}
}

// clear empties the cache, keeping its table.
func (c *idCache) clear() {
	clear(c.sets)
	c.n = 0
	c.pinned = c.pinned[:0]
	clear(c.added)
}

// shrink halves the table, and its limit with it: each set keeps the most
// recently used entries of the two sets it merges, taken in turn. Pinned
// entries it has no room for go to added.
func (c *idCache) shrink() bool {
	half := len(c.sets) / 2
	if half < cacheMinSets {
		return false
	}
	old := c.sets
	c.sets, c.n = make([]idSet, half), 0
	for i := range half {
		a, b := &old[i], &old[i+half]
		s := &c.sets[i]
		k := 0
		for j := range cacheWays {
			for _, e := range [2]idEntry{a[j], b[j]} {
				switch {
				case e.id == 0:
				case k < cacheWays:
					s[k] = e
					k++
				case e.pinnedEntry():
					e.k.h &= math.MaxInt64
					c.added[e.k] = e.id
				}
			}
		}
		c.n += k
	}
	c.limit = half * cacheWays
	if len(c.pinned) > 0 {
		c.repin()
	}
	return true
}

// bytes is the memory the table takes.
func (c *idCache) bytes() int { return len(c.sets) * int(unsafe.Sizeof(idSet{})) }
