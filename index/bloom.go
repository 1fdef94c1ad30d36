package index

import "math/bits"

// bloom is a set of 64-bit hashes (of recipients, of event keys) that
// answers "certainly not stored" without a lookup: at a transactional
// sender nearly every address is new, and a query per new address on a
// large index cost more than the row it adds. A "maybe" is looked up.
//
// It grows by layers, each twice the capacity of the one before, so it is
// never rebuilt; each layer at 10 bits per hash and 7 probes answers
// "maybe" for about 1% of absent hashes.
type bloom struct {
	layers []bloomLayer
}

type bloomLayer struct {
	bits    []uint64
	mask    uint64 // bit count - 1 (a power of two)
	n, room int
}

const (
	bloomProbes   = 7
	bloomBitsEach = 10
	bloomMinRoom  = 1 << 18
)

func newBloomLayer(room int) bloomLayer {
	nbits := uint64(1) << bits.Len64(uint64(room*bloomBitsEach-1))
	return bloomLayer{bits: make([]uint64, nbits/64), mask: nbits - 1, room: room}
}

// probes derives the probe positions from one hash by double hashing.
func probes(h int64) (a, b uint64) {
	x := uint64(h)
	a = x
	b = (x>>31 | x<<33) * 0x9E3779B97F4A7C15
	return a, b | 1
}

func (l *bloomLayer) add(h int64) {
	a, b := probes(h)
	for i := uint64(0); i < bloomProbes; i++ {
		p := (a + i*b) & l.mask
		l.bits[p>>6] |= 1 << (p & 63)
	}
	l.n++
}

func (l *bloomLayer) has(h int64) bool {
	a, b := probes(h)
	for i := uint64(0); i < bloomProbes; i++ {
		p := (a + i*b) & l.mask
		if l.bits[p>>6]&(1<<(p&63)) == 0 {
			return false
		}
	}
	return true
}

// add puts h in the set.
func (f *bloom) add(h int64) {
	if len(f.layers) == 0 || f.layers[len(f.layers)-1].n >= f.layers[len(f.layers)-1].room {
		room := bloomMinRoom
		if len(f.layers) > 0 {
			room = 2 * f.layers[len(f.layers)-1].room
		}
		f.layers = append(f.layers, newBloomLayer(room))
	}
	f.layers[len(f.layers)-1].add(h)
}

// reserve makes room for n hashes in an empty set, in one layer.
func (f *bloom) reserve(n int) {
	if len(f.layers) == 0 {
		f.layers = append(f.layers, newBloomLayer(max(n, bloomMinRoom)))
	}
}

// mayHave tells whether h may be in the set; false is certain.
func (f *bloom) mayHave(h int64) bool {
	for i := len(f.layers) - 1; i >= 0; i-- {
		if f.layers[i].has(h) {
			return true
		}
	}
	return false
}

func (f *bloom) reset() { f.layers = nil }
