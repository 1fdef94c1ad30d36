package maildiag

// What an index keeps besides events, as it keeps it: the records maildiag
// copy moves from one index to another without loss.

// StoredSuppression is a suppression-list entry with when the index first
// and last saw it on its list and when it went (0: still listed).
type StoredSuppression struct {
	Suppression
	FirstSeenUS, LastSeenUS, RemovedUS int64
	Imported                           bool // read from an exported file, not synced
}

// SyncedRange is a time range of a sending domain's events a sync has read
// completely from one source (events, logs), and when.
type SyncedRange struct {
	SendingDomain string
	Source        string
	Range
	SyncedUS int64
}

// StoredMetric is a period of Mailgun's Metrics API as a sync stored it.
type StoredMetric struct {
	Metric
	SyncedUS int64
}

// KeptMessage is a stored message fetched from Mailgun and kept (show
// --message --keep): its headers and text as JSON. MessageID is empty when
// the index keeps only a hash of it (SQLite); StorageKey, the last segment
// of the storage URL its events carry, names it then.
type KeptMessage struct {
	MessageID  string
	StorageKey string
	FetchedUS  int64
	Doc        []byte
}
