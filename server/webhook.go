package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maildiag/maildiag"
	"github.com/maildiag/maildiag/ingest"
)

// maxWebhookBody bounds a webhook's body: Mailgun's are a few kB.
const maxWebhookBody = 1 << 20

// hookJob is one verified webhook on its way into the index.
type hookJob struct {
	token   string
	events  []maildiag.Event
	rejects []maildiag.Reject
	done    chan hookResult
}

type hookResult struct {
	stored, replay bool
	err            error
}

// hookAnswer is the JSON answer to a webhook.
type hookAnswer struct {
	Status string `json:"status"` // stored, duplicate, refused
	Events int    `json:"events,omitempty"`
	Error  string `json:"error,omitempty"`
}

// webhook receives POST /webhooks/mailgun: a JSON webhook
// ({"signature": {...}, "event-data": {...}}) or a legacy form-encoded one
// (timestamp, token and signature among the fields). Answers: 200 once the
// event is committed; 401 for a bad signature (Mailgun retries: time to
// fix the key); 406 for an old timestamp, a replayed token or a body that
// is no webhook (Mailgun does not retry a 406); 503 without a signing key
// or when the index cannot be written (Mailgun retries).
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SigningKey == "" {
		writeJSON(w, http.StatusServiceUnavailable, hookAnswer{Status: "refused", Error: "no webhook signing key configured (MG_WEBHOOK_SIGNING_KEY)"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, hookAnswer{Status: "refused", Error: "body too large or cut short"})
		return
	}
	sig, payload, err := parseWebhook(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeJSON(w, http.StatusNotAcceptable, hookAnswer{Status: "refused", Error: err.Error()})
		return
	}
	if err := ingest.VerifyWebhook(s.cfg.SigningKey, sig, s.now(), s.cfg.WebhookMaxAge); err != nil {
		code := http.StatusUnauthorized
		if errors.Is(err, ingest.ErrStaleSignature) {
			code = http.StatusNotAcceptable
		}
		writeJSON(w, code, hookAnswer{Status: "refused", Error: err.Error()})
		return
	}
	// One record, normalised here on the request's goroutine: requests
	// decode in parallel, and the writer only stores.
	b := ingest.ReadRecord(payload, ingest.Options{})
	job := &hookJob{token: sig.Token, events: b.Events, rejects: b.Rejects, done: make(chan hookResult, 1)}
	switch {
	case b.ShapeCount("webhook")+b.ShapeCount("legacy-webhook") == 0:
		err = errors.New("not a Mailgun webhook payload")
	case len(job.events) == 0:
		err = errors.New("no event in the webhook")
		if len(job.rejects) > 0 {
			err = fmt.Errorf("malformed event: %s", job.rejects[0].Reason)
		}
	}
	if err != nil {
		writeJSON(w, http.StatusNotAcceptable, hookAnswer{Status: "refused", Error: err.Error()})
		return
	}
	select {
	case s.hooks <- job:
	case <-r.Context().Done():
		return
	}
	res := <-job.done // answered only once committed: a 2xx is in the index
	switch {
	case res.err != nil:
		s.cfg.Log.Error("webhook not stored", "error", res.err)
		writeJSON(w, http.StatusServiceUnavailable, hookAnswer{Status: "refused", Error: "the index could not be written; Mailgun will retry"})
	case res.replay:
		writeJSON(w, http.StatusNotAcceptable, hookAnswer{Status: "refused", Error: "webhook token seen before: a replay"})
	default:
		writeJSON(w, http.StatusOK, hookAnswer{Status: "stored", Events: len(job.events)})
	}
}

// parseWebhook finds the signature and the payload ingest reads: the body
// itself for a JSON webhook, the fields as a JSON object for a legacy
// form-encoded one (which ingest knows by its flat shape).
func parseWebhook(contentType string, body []byte) (ingest.WebhookSignature, []byte, error) {
	var sig ingest.WebhookSignature
	mt, params, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		fields, err := formFields(mt, params, body)
		if err != nil {
			return sig, nil, fmt.Errorf("read form: %w", err)
		}
		sig = ingest.WebhookSignature{Timestamp: fields["timestamp"], Token: fields["token"], Signature: fields["signature"]}
		delete(fields, "token")
		delete(fields, "signature")
		payload, err := json.Marshal(fields)
		return sig, payload, err
	}
	var env struct {
		Signature *ingest.WebhookSignature `json:"signature"`
		EventData json.RawMessage          `json:"event-data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return sig, nil, errors.New("body is not JSON")
	}
	if env.Signature == nil || len(env.EventData) == 0 || env.EventData[0] != '{' {
		return sig, nil, errors.New(`not a Mailgun webhook: {"signature": {...}, "event-data": {...}} expected`)
	}
	return *env.Signature, body, nil
}

// formFields reads a legacy webhook's fields (the first value of each);
// attachments are not kept.
func formFields(mt string, params map[string]string, body []byte) (map[string]string, error) {
	r, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", mime.FormatMediaType(mt, params))
	var err error
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxWebhookBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no fields")
	}
	return out, nil
}

// maxHookBatch is how many webhooks one transaction stores at most.
const maxHookBatch = 500

// hookLoop stores webhooks as they come, those arriving together in one
// transaction (one commit, one fsync for many), and answers each once it
// is committed.
func (s *Server) hookLoop(ctx context.Context) {
	lastForget := time.Time{}
	for {
		var batch []*hookJob
		select {
		case j := <-s.hooks:
			batch = append(batch, j)
		case <-ctx.Done():
			return
		}
	more:
		for len(batch) < maxHookBatch {
			select {
			case j := <-s.hooks:
				batch = append(batch, j)
			default:
				break more
			}
		}
		forget := time.Since(lastForget) > time.Minute
		if forget {
			lastForget = time.Now()
		}
		s.storeHooks(context.WithoutCancel(ctx), batch, forget)
	}
}

// storeHooks writes a batch and answers its jobs.
func (s *Server) storeHooks(ctx context.Context, batch []*hookJob, forget bool) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	nowUS := s.now().UnixMicro()
	res := make([]hookResult, len(batch))
	err := func() error {
		if forget {
			// A token older than twice the allowed age cannot come back
			// with a timestamp the server still accepts.
			if err := s.w.ForgetWebhookTokens(ctx, nowUS-2*s.cfg.WebhookMaxAge.Microseconds()); err != nil {
				return err
			}
		}
		// Tokens first, then the events of every new webhook in one call:
		// the writer's per-call work (dictionaries, counts, the raw block)
		// is paid once a batch, not once a webhook.
		var evs []maildiag.Event
		for i, j := range batch {
			first, err := s.w.FirstWebhookToken(ctx, j.token, nowUS)
			if err != nil {
				return err
			}
			if !first {
				res[i].replay = true
				continue
			}
			evs = append(evs, j.events...)
			if len(j.rejects) > 0 {
				if err := s.w.AddRejects(ctx, "webhook", 0, j.rejects); err != nil {
					return err
				}
			}
			res[i].stored = true
		}
		if len(evs) > 0 {
			if _, err := s.w.AddEvents(ctx, evs, 0); err != nil {
				return fmt.Errorf("store webhook events: %w", err)
			}
		}
		return s.w.Commit(ctx)
	}()
	if err != nil {
		s.w.Rollback()
	}
	for i, j := range batch {
		if err != nil {
			res[i] = hookResult{err: err}
		}
		j.done <- res[i]
	}
}

// writeJSON answers with v as JSON, compact: indenting re-read every
// answer (5% of the server's CPU under the API bench, whose suppressed
// answers are 100 kB), and clients parse it anyway (jq prints it
// indented). Encoded whole first: a failure to encode is a 500, not a
// cut answer, and the length is known.
func writeJSON(w http.ResponseWriter, code int, v any) {
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4<<20 {
			buf.Reset()
			jsonBufs.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		code = http.StatusInternalServerError
		fmt.Fprintf(buf, "{\"error\":\"the server failed to encode its answer\"}\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// atoiOr parses s, or returns def.
func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}
