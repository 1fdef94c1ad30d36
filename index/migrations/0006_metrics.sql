-- Mailgun's Metrics API (POST /v1/analytics/metrics) per sending domain and
-- period: counts for times the events index never saw (hourly kept 60 days
-- by Mailgun, daily a year). A sync replaces a period's row as a whole.
CREATE TABLE IF NOT EXISTS metrics (
	sending_domain TEXT NOT NULL,
	resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
	start_us INTEGER NOT NULL, -- the period's start, µs since the epoch, UTC
	accepted INTEGER NOT NULL DEFAULT 0,
	delivered INTEGER NOT NULL DEFAULT 0,
	temporary_failed INTEGER NOT NULL DEFAULT 0,
	permanent_failed INTEGER NOT NULL DEFAULT 0,
	hard_bounces INTEGER NOT NULL DEFAULT 0,
	soft_bounces INTEGER NOT NULL DEFAULT 0,
	suppressed INTEGER NOT NULL DEFAULT 0, -- bounces, unsubscribes and complaints not sent to
	complained INTEGER NOT NULL DEFAULT 0,
	unsubscribed INTEGER NOT NULL DEFAULT 0,
	opened INTEGER NOT NULL DEFAULT 0,
	clicked INTEGER NOT NULL DEFAULT 0,
	synced_us INTEGER NOT NULL, -- when a sync stored the row
	PRIMARY KEY (sending_domain, resolution, start_us)
) WITHOUT ROWID;
