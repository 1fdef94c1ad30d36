package mgserver

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	writeBody(w, status, b)
}

// writeBody answers with JSON already encoded.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// writeMessage answers with Mailgun's error shape, {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func methodNotAllowed(w http.ResponseWriter) {
	writeMessage(w, http.StatusMethodNotAllowed, "Method not allowed")
}

func notFound(w http.ResponseWriter) {
	writeMessage(w, http.StatusNotFound, "Not Found")
}

func domainNotFound(w http.ResponseWriter) {
	writeMessage(w, http.StatusNotFound, "Domain not found")
}
