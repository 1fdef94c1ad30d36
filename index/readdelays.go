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
	type row struct{ rcpt, mk, ts, typ, sd int64 }
	var out []analyze.DeliveryDelay
	for i, did := range ids {
		lo, hi := RecipientRange(did)
		var steps []analyze.DeliveryStep
		for d := first; d <= last; d++ {
			rows, err := queryAll(ctx, db, "read deliveries",
				`SELECT recipient_id, message_key, ts, type_id, sending_domain_id FROM events
				WHERE day = ? AND recipient_id BETWEEN ? AND ? AND type_id IN (?, ?) AND message_key != 0`,
				[]any{d, lo, hi, typeAccepted, typeDelivered}, func(r *row) []any { return []any{&r.rcpt, &r.mk, &r.ts, &r.typ, &r.sd} })
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if len(sds) == 0 || slices.Contains(sds, r.sd) {
					steps = append(steps, analyze.DeliveryStep{Recipient: analyze.RecipientID(r.rcpt), MessageKey: r.mk, TimeUS: r.ts, Delivered: r.typ == typeDelivered})
				}
			}
		}
		for _, d := range analyze.DelaysOf(steps, fromUS, untilUS) {
			out = append(out, analyze.DeliveryDelay{RecipientDomain: doms[i].Name, Delay: d})
		}
	}
	return out, ctx.Err()
}
