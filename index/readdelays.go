package index

import (
	"context"
	"slices"
	"time"

	"github.com/maildiag/maildiag/analyze"
)

// delayLookback is how long before the period a delivery's accepted event
// is looked for: Mailgun retries for up to 8 hours, then gives up, so the
// day before covers it.
const delayLookback = 24 * time.Hour

// DeliveryDelays are the accepted-to-delivered times of each delivery in
// [from, until) to the recipient domains named, from the events
// themselves: exact, where delay_counts only holds buckets. Each domain's
// recipients are a range of ids, so each day is one index seek per
// domain.
func (db *DB) DeliveryDelays(ctx context.Context, recipientDomains []string, from, until time.Time, sendingDomains []string) ([]analyze.DeliveryDelay, error) {
	if len(recipientDomains) == 0 {
		return nil, nil
	}
	l, a := inList(recipientDomains)
	ids, doms, err := db.domainsWhere(ctx, `name IN `+l, a...)
	if err != nil {
		return nil, err
	}
	sds, err := db.domainIDs(ctx, sendingDomains)
	if err != nil {
		return nil, err
	}
	first, last := dayRange(from.Add(-delayLookback), until)
	fromUS, untilUS := from.UnixMicro(), until.UnixMicro()
	type key struct{ mk, rcpt int64 }
	type row struct{ rcpt, mk, ts, typ, sd int64 }
	var out []analyze.DeliveryDelay
	for i, did := range ids {
		lo, hi := RecipientRange(did)
		accepted := map[key]int64{}
		var delivered []row
		for d := first; d <= last; d++ {
			rows, err := queryAll(ctx, db, "read deliveries",
				`SELECT recipient_id, message_key, ts, type_id, sending_domain_id FROM events
				WHERE day = ? AND recipient_id BETWEEN ? AND ? AND type_id IN (?, ?) AND message_key != 0`,
				[]any{d, lo, hi, typeAccepted, typeDelivered}, func(r *row) []any { return []any{&r.rcpt, &r.mk, &r.ts, &r.typ, &r.sd} })
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if len(sds) > 0 && !slices.Contains(sds, r.sd) {
					continue
				}
				k := key{r.mk, r.rcpt}
				switch {
				case r.typ == typeAccepted:
					if a, ok := accepted[k]; !ok || r.ts < a {
						accepted[k] = r.ts
					}
				case r.ts >= fromUS && r.ts < untilUS:
					delivered = append(delivered, r)
				}
			}
		}
		for _, r := range delivered {
			a, ok := accepted[key{r.mk, r.rcpt}]
			if !ok || a > r.ts {
				continue // accepted before the look-back, or not in the index
			}
			out = append(out, analyze.DeliveryDelay{RecipientDomain: doms[i].Name, Delay: time.Duration(r.ts-a) * time.Microsecond})
		}
	}
	return out, ctx.Err()
}
