package index

import "testing"

func TestEventHashIsHashOfTypeAndID(t *testing.T) {
	for _, c := range [][2]string{{"delivered", "hK7mQVt1QtqRiOfQXta4sw"}, {"", ""}, {"failed", "x\x00y"}} {
		if got, want := eventHash(c[0], c[1]), hash63(c[0]+"\x00"+c[1]); got != want {
			t.Errorf("eventHash(%q, %q) = %d, want %d", c[0], c[1], got, want)
		}
	}
	if hash63("") == 0 || messageKey("") != 0 {
		t.Error("hash63 must never be 0, and no message-id has key 0")
	}
}
