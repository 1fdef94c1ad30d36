package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mtypes"
)

// ErrNoSuchDomain is returned for a sending domain the account does not have.
var ErrNoSuchDomain = errors.New("no such sending domain")

// maxDomainPages bounds the domains list (100 a page).
const maxDomainPages = 10_000

// Domains lists the account's sending domains through mailgun-go's
// ListDomains, lower-cased, in the API's order.
func (c *Client) Domains(ctx context.Context) ([]string, error) {
	it := c.Mailgun().ListDomains(&mailgun.ListDomainsOptions{Limit: 100})
	var page []mtypes.Domain
	var out []string
	seen := map[string]bool{}
	for n := 0; it.Next(ctx, &page); n++ {
		if n >= maxDomainPages {
			return out, fmt.Errorf("list domains: more than %d pages", maxDomainPages)
		}
		for _, d := range page {
			name := strings.ToLower(strings.TrimSpace(d.Name))
			if name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// CheckDomain tells whether the account has a sending domain: nil, an
// error wrapping ErrNoSuchDomain, or the error that kept it from asking.
func (c *Client) CheckDomain(ctx context.Context, domain string) error {
	_, err := c.Mailgun().GetDomain(ctx, domain, nil)
	if err == nil {
		return nil
	}
	if ae, ok := AsAPIError(err); ok && ae.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %s is not a domain of this account at %s", ErrNoSuchDomain, domain, c.host)
	}
	return fmt.Errorf("check domain %s: %w", domain, err)
}
