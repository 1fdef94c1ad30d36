package syncer

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/maildiag/maildiag/ingest"
)

// DomainsFailed is the error of a pass in which some domains failed after
// their retries; what was read of them is committed, and the next pass
// resumes.
type DomainsFailed struct {
	Errs  []error // one a failed domain, each naming it
	Total int     // domains in the pass
}

// Error says how many domains failed, and why.
func (e *DomainsFailed) Error() string {
	return fmt.Sprintf("sync failed for %d of %d domains (what was read is committed): %v", len(e.Errs), e.Total, errors.Join(e.Errs...))
}

// Unwrap returns the domains' errors.
func (e *DomainsFailed) Unwrap() []error { return e.Errs }

// KeyRefused tells whether the API refused the key (401 or 403): nothing
// else will work with it.
func KeyRefused(err error) bool {
	ae, ok := ingest.AsAPIError(err)
	return ok && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}

// Retryable tells whether a failed pass is worth repeating later: not when
// the key is refused, a domain does not exist (ingest.ErrNoSuchDomain) or
// the key may read none of the domains (ErrNothingReadable).
func Retryable(err error) bool {
	return !KeyRefused(err) && !errors.Is(err, ingest.ErrNoSuchDomain) && !errors.Is(err, ErrNothingReadable)
}

// ErrServerDown marks a pass stopped because a request failed after all its
// retries with no answer retrying could change (connections refused,
// timeouts, 5xx): every request left would spend its own retries the same
// way. What was read is committed; the next pass resumes.
var ErrServerDown = errors.New("the API is not answering: the pass stopped")

// partRefused tells whether err is the API refusing one part of the
// account (403 or 404) to a key it accepts: a warning, not a failure.
// A 401 is the key itself, and ends the pass.
func partRefused(err error) (*ingest.APIError, bool) {
	ae, ok := ingest.AsAPIError(err)
	if !ok || (ae.Status != http.StatusForbidden && ae.Status != http.StatusNotFound) {
		return nil, false
	}
	return ae, true
}

// ErrNothingReadable is the error of a pass in which the API refused the
// events of every domain (403 or 404): the key may read none of them.
var ErrNothingReadable = errors.New("the API refused the events of every domain: the key may not read them")
