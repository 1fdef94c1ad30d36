package synth

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/bits"
)

// rng is a small, fast, seedable generator (wyrand). The standard library's
// generators would do, but this one is cheap enough to call a dozen times per
// event and its whole state is one word, so streams can be forked freely.
type rng struct{ s uint64 }

// Stream numbers keep independent parts of the account independent: the
// stories do not change when the number of background events does.
const (
	streamBackground = 1
	streamStories    = 2
	streamPopulation = 3
	streamTimeline   = 4
	streamRender     = 5
)

func newRNG(seed int64, stream uint64) rng {
	return rng{s: mix(uint64(seed), stream*0x9e3779b97f4a7c15)}
}

func (r *rng) u64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a number in [0, n); n must be > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// norm returns a standard normal deviate (Box-Muller, one of the pair).
func (r *rng) norm() float64 {
	u := r.float()
	if u < 1e-300 {
		u = 1e-300
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// logNormal returns a log-normally distributed value with the given median.
func (r *rng) logNormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.norm())
}

// mix is a strong 64-bit hash of two words (splitmix64 finaliser).
func mix(a, b uint64) uint64 {
	z := a ^ (b + 0x9e3779b97f4a7c15 + (a << 6) + (a >> 2))
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashString hashes s with a seed (FNV-1a, then mixed): properties of an
// address derive from its text so that the same address always behaves the
// same, however it was chosen.
func hashString(seed uint64, s string) uint64 {
	h := uint64(14695981039346656037) ^ seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h, seed)
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// weighted picks an index from a cumulative weight table (last entry = total).
func weighted(cum []float64, u float64) int {
	x := u * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	t := 0.0
	for i, x := range w {
		t += x
		c[i] = t
	}
	return c
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// appendB64 appends n random base64url characters.
func (r *rng) appendB64(dst []byte, n int) []byte {
	var w uint64
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			w = r.u64()
		}
		dst = append(dst, b64url[w&63])
		w >>= 6
	}
	return dst
}

const hexUpper = "0123456789ABCDEF"
const hexLower = "0123456789abcdef"

func (r *rng) appendHex(dst []byte, n int, digits string) []byte {
	var w uint64
	for i := 0; i < n; i++ {
		if i%16 == 0 {
			w = r.u64()
		}
		dst = append(dst, digits[w&15])
		w >>= 4
	}
	return dst
}

func (r *rng) appendDigits(dst []byte, n int) []byte {
	for i := 0; i < n; i++ {
		dst = append(dst, byte('0'+r.intn(10)))
	}
	return dst
}

func (r *rng) appendLetters(dst []byte, n int) []byte {
	for i := 0; i < n; i++ {
		dst = append(dst, byte('a'+r.intn(26)))
	}
	return dst
}

// appendEventID appends a Mailgun-like event id: 16 random bytes in
// unpadded base64url, 22 characters (so the last one is always A, Q, g or w).
func (r *rng) appendEventID(dst []byte) []byte {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], r.u64())
	binary.LittleEndian.PutUint64(raw[8:], r.u64())
	return base64.RawURLEncoding.AppendEncode(dst, raw[:])
}
