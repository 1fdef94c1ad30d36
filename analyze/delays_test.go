package analyze

import (
	"slices"
	"testing"
	"time"
)

func TestDelaysOfPairsEachDeliveryWithItsFirstAcceptance(t *testing.T) {
	const s = 1_000_000 // a second in microseconds
	steps := []DeliveryStep{
		{Recipient: 1, MessageKey: 7, TimeUS: 100 * s},                  // accepted
		{Recipient: 1, MessageKey: 7, TimeUS: 90 * s},                   // accepted earlier: this one counts
		{Recipient: 1, MessageKey: 7, TimeUS: 130 * s, Delivered: true}, // 40 s
		{Recipient: 2, MessageKey: 7, TimeUS: 140 * s, Delivered: true}, // another recipient, never accepted
		{Recipient: 3, MessageKey: 8, TimeUS: 150 * s},
		{Recipient: 3, MessageKey: 8, TimeUS: 155 * s, Delivered: true}, // 5 s
		{Recipient: 3, MessageKey: 9, TimeUS: 50 * s},
		{Recipient: 3, MessageKey: 9, TimeUS: 60 * s, Delivered: true}, // before the period
		{Recipient: 4, MessageKey: 0, TimeUS: 100 * s},
		{Recipient: 4, MessageKey: 0, TimeUS: 120 * s, Delivered: true}, // no message id: no pair
		{Recipient: 5, MessageKey: 5, TimeUS: 200 * s, Delivered: true}, // until is open
		{Recipient: 5, MessageKey: 5, TimeUS: 199 * s},
	}
	got := DelaysOf(steps, 100*s, 200*s)
	want := []time.Duration{40 * time.Second, 5 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}
}
