package inorder

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// TestOrder: parts read at uneven speeds come out in order, whole.
func TestOrder(t *testing.T) {
	for _, readers := range []int{1, 2, 3, 8} {
		const parts, per = 7, 1300 // parts of more than one batch
		var got []int
		err := Read(context.Background(), parts, readers, func(ctx context.Context, part int, emit func(*int) error) error {
			for i := range per {
				if rand.IntN(400) == 0 {
					time.Sleep(time.Millisecond)
				}
				v := part*per + i
				if err := emit(&v); err != nil {
					return err
				}
			}
			return nil
		}, func(v *int) error {
			got = append(got, *v)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != parts*per {
			t.Fatalf("readers %d: %d rows, want %d", readers, len(got), parts*per)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("readers %d: row %d is %d", readers, i, v)
			}
		}
	}
}

// TestErrors: a reader's error and fn's error end the read, and every
// reader stops (Read returns only once they have).
func TestErrors(t *testing.T) {
	bad := errors.New("bad day")
	endless := func(ctx context.Context, part int, emit func(*int) error) error {
		if part == 3 {
			return bad
		}
		for {
			if err := emit(&part); err != nil {
				return err
			}
		}
	}
	// Part 3 fails, but parts before it never end: fn stops the read.
	stop := errors.New("enough")
	n := 0
	err := Read(context.Background(), 6, 2, endless, func(*int) error {
		if n++; n == 50 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("fn's error: got %v", err)
	}
	err = Read(context.Background(), 6, 2, func(ctx context.Context, part int, emit func(*int) error) error {
		if part == 3 {
			return bad
		}
		return emit(&part)
	}, func(*int) error { return nil })
	if !errors.Is(err, bad) {
		t.Fatalf("a reader's error: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Read(ctx, 6, 2, endless, func(*int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v", err)
	}
}
