package classify

import "github.com/maildiag/maildiag"

// Derive fills the fields the analyses derive from an event: Gateway for
// every event (empty when nothing tells who receives the recipient's mail),
// and Class and Rule for failed and rejected events (empty for others).
// It reads the reply once for both, keeps no state, and is safe to call
// from any number of goroutines; ingest calls it on its workers, and the
// index calls it again on stored events when RulesVersion changes.
func Derive(ev *maildiag.Event) {
	rh := replyHits{reply: ev.Reply}
	ev.Gateway = loaded().gateway(ev.MXHost, ev.Provider, recipientDomain(ev), &rh)
	k := kindOf(ev.Type)
	if k == 0 {
		ev.Class, ev.Rule = "", ""
		return
	}
	c := loaded().classify(ev, k, ev.Gateway, &rh)
	ev.Class, ev.Rule = c.Class, c.Rule
}
