package synth

// AppendLogsJSON appends the event as a Logs API item (POST
// /v1/analytics/logs): @timestamp as an ISO string with milliseconds,
// domain and account objects, storage.url as an array, user-variables as a
// JSON string, and the Logs-only delivery-status fields.
func (e *Event) AppendLogsJSON(dst []byte, accountID string) []byte {
	return e.appendObject(dst, shapeLogs, accountID)
}
