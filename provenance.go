package maildiag

// Import is the provenance of one imported input.
type Import struct {
	ID               int64          `json:"id"`
	Source           string         `json:"source"`
	SHA256           string         `json:"sha256,omitempty"`
	Bytes            int64          `json:"bytes"`
	Gzip             bool           `json:"gzip"`
	Shapes           map[string]int `json:"shapes,omitempty"`
	Status           string         `json:"status"` // ImportRunning, ImportDone, ImportFailed or ImportInterrupted
	Error            string         `json:"error,omitempty"`
	StartedUS        int64          `json:"started_us"`
	FinishedUS       int64          `json:"finished_us,omitempty"`
	EventsRead       int            `json:"events_read"`
	EventsNew        int            `json:"events_new"`
	SuppressionsRead int            `json:"suppressions_read"`
	SuppressionsNew  int            `json:"suppressions_new"`
	Rejects          int            `json:"rejects"`
}

// The statuses of an import.
const (
	ImportRunning     = "running"
	ImportDone        = "done"
	ImportFailed      = "failed"      // the input failed part-way; what loaded before stays
	ImportInterrupted = "interrupted" // its process ended before it finished (killed); what it committed stays
)

// Range is a half-open time range [FromUS, ToUS) in microseconds.
type Range struct {
	FromUS, ToUS int64
}

// ListSync is when one suppression list of one sending domain was last read
// whole from the API.
type ListSync struct {
	SendingDomain string `json:"sending_domain"`
	List          string `json:"list"`
	SyncedUS      int64  `json:"synced_us"`
}
