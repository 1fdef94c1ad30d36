-- What sync stores besides events and suppression lists: Mailgun's Metrics
-- API counts (POST /v1/analytics/metrics) per sending domain and period, for
-- times the events index never saw (the SQLite index's metrics table). A
-- sync replaces a period's row as a whole.
CREATE TABLE metrics (
	sending_domain   text NOT NULL,
	resolution       text NOT NULL CHECK (resolution IN ('hour', 'day')),
	start_us         bigint NOT NULL, -- the period's start, µs since the epoch, UTC
	accepted         bigint NOT NULL DEFAULT 0,
	delivered        bigint NOT NULL DEFAULT 0,
	temporary_failed bigint NOT NULL DEFAULT 0,
	permanent_failed bigint NOT NULL DEFAULT 0,
	hard_bounces     bigint NOT NULL DEFAULT 0,
	soft_bounces     bigint NOT NULL DEFAULT 0,
	suppressed       bigint NOT NULL DEFAULT 0, -- bounces, unsubscribes and complaints not sent to
	complained       bigint NOT NULL DEFAULT 0,
	unsubscribed     bigint NOT NULL DEFAULT 0,
	opened           bigint NOT NULL DEFAULT 0,
	clicked          bigint NOT NULL DEFAULT 0,
	synced_us        bigint NOT NULL,  -- when a sync stored the row
	PRIMARY KEY (sending_domain, resolution, start_us)
);
