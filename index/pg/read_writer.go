package pg

import (
	"context"
	"fmt"
)

// What the writer keeps for the read side (migration 0002), beside the
// events: the merge copies the events it inserted into stage_new, and
// mergeRead moves what they say into the domains' delivery details and the
// deliveries table.

// createStageNew is the table of the events the last merge inserted.
const createStageNew = `CREATE TEMP TABLE IF NOT EXISTS stage_new (
	day integer, ts bigint, seq bigint, type_id smallint, r_id bigint, sd_id integer, rd_id integer, message_id text,
	outcome text, provider text, gateway text, mx_host text
)`

// mergeRead keeps, for the events just inserted:
//   - each recipient domain's provider, gateway and MX host: those of its
//     latest delivered or failed event with an MX host, as the SQLite
//     index does;
//   - each delivery (message and recipient): its first accepted event and
//     its first final one (delivered, or failed for good).
const mergeRead = `
WITH attrs AS (
	SELECT DISTINCT ON (rd_id) rd_id, ts, provider, gateway, mx_host FROM stage_new
	WHERE rd_id <> 0 AND COALESCE(mx_host, '') <> '' AND type_id IN (3, 4)
	ORDER BY rd_id, ts DESC, seq DESC
), a AS (
	UPDATE domains d SET provider = attrs.provider, gateway = attrs.gateway, mx_host = attrs.mx_host, seen_at = attrs.ts
	FROM (SELECT * FROM attrs ORDER BY rd_id) attrs
	WHERE d.id = attrs.rd_id AND (d.seen_at IS NULL OR d.seen_at <= attrs.ts)
), acc AS (
	SELECT DISTINCT ON (r_id, message_id) r_id, message_id, ts AS accepted_at, sd_id AS accepted_sd FROM stage_new
	WHERE type_id = 1 AND r_id <> 0 AND message_id <> ''
	ORDER BY r_id, message_id, ts, seq
), fin AS (
	SELECT DISTINCT ON (r_id, message_id) r_id, message_id, ts AS final_at, type_id = 3 AS delivered, sd_id AS final_sd,
		COALESCE(gateway, '') AS gateway
	FROM stage_new
	WHERE (type_id = 3 OR type_id = 4 AND outcome <> 'temporary') AND r_id <> 0 AND message_id <> ''
	ORDER BY r_id, message_id, ts, seq
)
INSERT INTO deliveries AS d (recipient_id, message_id, accepted_at, sending_domain_id, final_at, final_delivered, final_sd, final_gateway)
SELECT r_id, message_id, accepted_at, accepted_sd, final_at, delivered, final_sd, COALESCE(gateway, '')
FROM acc FULL JOIN fin USING (r_id, message_id)
ORDER BY 1, 2
ON CONFLICT (recipient_id, message_id) DO UPDATE SET
	accepted_at = CASE WHEN excluded.accepted_at < COALESCE(d.accepted_at, excluded.accepted_at + 1) THEN excluded.accepted_at ELSE d.accepted_at END,
	sending_domain_id = CASE WHEN excluded.accepted_at < COALESCE(d.accepted_at, excluded.accepted_at + 1) THEN excluded.sending_domain_id ELSE d.sending_domain_id END,
	final_at = CASE WHEN excluded.final_at < COALESCE(d.final_at, excluded.final_at + 1) THEN excluded.final_at ELSE d.final_at END,
	final_delivered = CASE WHEN excluded.final_at < COALESCE(d.final_at, excluded.final_at + 1) THEN excluded.final_delivered ELSE d.final_delivered END,
	final_sd = CASE WHEN excluded.final_at < COALESCE(d.final_at, excluded.final_at + 1) THEN excluded.final_sd ELSE d.final_sd END,
	final_gateway = CASE WHEN excluded.final_at < COALESCE(d.final_at, excluded.final_at + 1) THEN excluded.final_gateway ELSE d.final_gateway END`

// mergeReadRollups runs mergeRead in the open transaction.
func (w *Writer) mergeReadRollups(ctx context.Context) error {
	if _, err := w.tx.Exec(ctx, mergeRead); err != nil {
		return fmt.Errorf("store events: deliveries: %w", mayNotWrite(err))
	}
	return nil
}

// messageKeySQL is a message-id's key (analyze.MessageRef) in SQL: a
// 64-bit hash, 0 for none.
const messageKeySQL = `(CASE WHEN COALESCE(message_id, '') = '' THEN 0 ELSE hashtextextended(message_id, 0) END)`
