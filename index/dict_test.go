package index

import "testing"

func TestRecipientCacheRotates(t *testing.T) {
	c := recipientCache{cur: map[recipKey]int64{}}
	for i := range 10 {
		c.cur[recipKey{h: int64(i)}] = int64(i)
	}
	c.rotate(40) // under half: kept as it is
	if c.prev != nil {
		t.Fatal("rotated under the limit")
	}
	c.rotate(20)
	if len(c.cur) != 0 || len(c.prev) != 10 {
		t.Fatalf("after rotation: %d current, %d previous; want 0 and 10", len(c.cur), len(c.prev))
	}
	// A hit in the older generation moves to the newer one.
	if id, ok := c.get(recipKey{h: 3}); !ok || id != 3 || c.cur[recipKey{h: 3}] != 3 {
		t.Fatalf("get(3) = %d, %v after rotation", id, ok)
	}
	for i := 100; i < 110; i++ {
		c.cur[recipKey{h: int64(i)}] = int64(i)
	}
	c.rotate(20)
	if _, ok := c.get(recipKey{h: 4}); ok {
		t.Error("an address unused for two generations is still cached")
	}
	if id, ok := c.get(recipKey{h: 3}); !ok || id != 3 {
		t.Error("an address used in the last generation is no longer cached")
	}
}
