package index

import "unsafe"

// idCache maps keys (recipKey, of addresses and of texts) to ids: a table
// of sets of cacheWays entries, each set most recently used first, that
// grows by doubling up to a fixed number of entries and then drops the
// least recently used entry of a set. Two generations of Go maps held the
// same number of recipients and texts in 108 MB at a 4M-event
// transactional import; this table holds them in 48 MB.
//
// An id given out in the open transaction is kept in added as well, which
// nothing evicts: until the commit the index cannot find it, and a second
// id for the same address would be given out.
type idCache struct {
	sets  []idSet
	n     int // entries in sets
	limit int // entries sets grows to
	added map[recipKey]int64
}

const (
	cacheWays     = 8
	cacheMinSets  = 1 << 9
	cacheGrowLoad = 3 // of 4: entries a set holds on average before the table doubles
)

type idEntry struct {
	k  recipKey
	id int64 // 0: an empty entry, after every used one of its set
}

type idSet [cacheWays]idEntry

func newIDCache(limit int) idCache {
	return idCache{sets: make([]idSet, cacheMinSets), limit: limit, added: map[recipKey]int64{}}
}

func (c *idCache) set(k recipKey) *idSet { return &c.sets[k.m&uint64(len(c.sets)-1)] }

// get returns a key's id.
func (c *idCache) get(k recipKey) (int64, bool) {
	s := c.set(k)
	for i := 0; i < cacheWays && s[i].id != 0; i++ {
		if s[i].k == k {
			e := s[i]
			copy(s[1:i+1], s[:i])
			s[0] = e
			return e.id, true
		}
	}
	id, ok := c.added[k]
	if ok {
		c.put(k, id)
	}
	return id, ok
}

// put caches a stored key's id, first in its set.
func (c *idCache) put(k recipKey, id int64) {
	s := c.set(k)
	i := 0
	for i < cacheWays-1 && s[i].id != 0 && s[i].k != k {
		i++
	}
	if s[i].id == 0 {
		c.n++
	}
	copy(s[1:i+1], s[:i])
	s[0] = idEntry{k, id}
	if c.n*4 > len(c.sets)*cacheWays*cacheGrowLoad && len(c.sets)*cacheWays < c.limit {
		c.grow()
	}
}

// add caches the id given out to a new key, kept until committed.
func (c *idCache) add(k recipKey, id int64) {
	c.added[k] = id
	c.put(k, id)
}

// committed drops the hold on the ids given out: the index has them now.
func (c *idCache) committed() { clear(c.added) }

// grow doubles the table, each set's entries put back least recently used
// first, so that their order holds.
func (c *idCache) grow() {
	old := c.sets
	c.sets, c.n = make([]idSet, 2*len(old)), 0
	for i := range old {
		for j := cacheWays - 1; j >= 0; j-- {
			if e := old[i][j]; e.id != 0 {
				c.put(e.k, e.id)
			}
		}
	}
}

// clear empties the cache, keeping its table.
func (c *idCache) clear() {
	clear(c.sets)
	c.n = 0
	clear(c.added)
}

// shrink halves the table, and its limit with it: each set keeps the most
// recently used entries of the two sets it merges, taken in turn. Ids given
// out in the open transaction stay in added.
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
		for j := 0; j < cacheWays && k < cacheWays; j++ {
			for _, e := range [2]idEntry{a[j], b[j]} {
				if e.id != 0 && k < cacheWays {
					s[k] = e
					k++
				}
			}
		}
		c.n += k
	}
	c.limit = half * cacheWays
	return true
}

// bytes is the memory the table takes.
func (c *idCache) bytes() int { return len(c.sets) * int(unsafe.Sizeof(idSet{})) }
