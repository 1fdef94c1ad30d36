package index

import "math/bits"

// bloom is a set of 64-bit hashes (of recipients, of event keys) that
// answers "certainly not stored" without a lookup: at a transactional
// sender nearly every address is new, and a query per new address on a
// large index cost more than the row it adds. A "maybe" is looked up.
//
// It grows by layers, each twice the capacity of the one before, so it is
// never rebuilt; each full layer, at 12 bits per hash and 7 probes, answers
// "maybe" for about 0.4% of absent hashes.
//
// A layer is blocked: the 7 probes of a hash fall in one 512-bit block,
// one cache line, where spreading them over the layer cost a cache miss
// each (a stored text, found in every event, cost seven).
type bloom struct {
	layers []bloomLayer
}

type bloomLayer struct {
	bits    []uint64
	blocks  uint64
	n, room int
}

const (
	bloomProbes    = 7
	bloomBitsEach  = 12
	bloomMinRoom   = 1 << 18
	bloomBlockBits = 512
)

// newBloomLayer sizes a layer at exactly bloomBitsEach bits a hash: rounded
// up to a power of two, the filters of a 10M-event transactional import
// took 52 MB where 35 MB do, and the live heap, near the import's memory
// limit by then, left the collector less room each million.
func newBloomLayer(room int) bloomLayer {
	blocks := uint64(room*bloomBitsEach+bloomBlockBits-1) / bloomBlockBits
	return bloomLayer{bits: make([]uint64, blocks*bloomBlockBits/64), blocks: blocks, room: room}
}

// probes derives a hash's block (its first word) and, from an independent
// mix of the hash, the 9-bit positions of its probes in the block.
func (l *bloomLayer) probes(h int64) (word uint64, pos uint64) {
	x := uint64(h)
	blk, _ := bits.Mul64(x*0x9E3779B97F4A7C15, l.blocks)
	return blk * (bloomBlockBits / 64), x * 0xC2B2AE3D27D4EB4F
}

func (l *bloomLayer) add(h int64) {
	w, pos := l.probes(h)
	blk := l.bits[w : w+bloomBlockBits/64 : w+bloomBlockBits/64]
	for range bloomProbes {
		p := pos & (bloomBlockBits - 1)
		blk[p>>6] |= 1 << (p & 63)
		pos >>= 9
	}
	l.n++
}

func (l *bloomLayer) has(h int64) bool {
	w, pos := l.probes(h)
	blk := l.bits[w : w+bloomBlockBits/64 : w+bloomBlockBits/64]
	for range bloomProbes {
		p := pos & (bloomBlockBits - 1)
		if blk[p>>6]&(1<<(p&63)) == 0 {
			return false
		}
		pos >>= 9
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
