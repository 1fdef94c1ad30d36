package mgserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maildiag/maildiag/synth"
	"github.com/mailgun/mailgun-go/v5"
	"github.com/mailgun/mailgun-go/v5/mtypes"
)

// sdk returns a mailgun-go client for domain pointed at the test server,
// as the sync command will build it.
func (e *env) sdk() *mailgun.Client {
	mg := mailgun.NewMailgun(testKey)
	if err := mg.SetAPIBase(e.hs.URL); err != nil {
		panic(err)
	}
	mg.SetHTTPClient(&http.Client{Timeout: 10 * time.Second})
	return mg
}

func TestSDKIteratorsReturnWholeLists(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	ctx := context.Background()
	dom := e.res.SendingDomains[0]
	mg := e.sdk()
	wantB := e.acct.Bounces(dom)
	if len(wantB) < 50 {
		t.Fatalf("only %d bounces: the test needs several pages", len(wantB))
	}
	var gotB []mtypes.Bounce
	it := mg.ListBounces(dom, &mailgun.ListOptions{Limit: 20})
	var page []mtypes.Bounce
	for it.Next(ctx, &page) {
		gotB = append(gotB, page...)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(gotB) != len(wantB) {
		t.Fatalf("ListBounces: %d entries, want %d", len(gotB), len(wantB))
	}
	for i, b := range gotB {
		w := wantB[i]
		if b.Address != w.Address || b.Code != w.Code || b.Error != w.Error || !time.Time(b.CreatedAt).Equal(w.CreatedAt) {
			t.Fatalf("bounce %d: got %+v, want %+v", i, b, w)
		}
	}

	wantU := e.acct.Unsubscribes(dom)
	var gotU []mtypes.Unsubscribe
	itU := mg.ListUnsubscribes(dom, &mailgun.ListOptions{Limit: 7})
	var pageU []mtypes.Unsubscribe
	for itU.Next(ctx, &pageU) {
		gotU = append(gotU, pageU...)
	}
	if err := itU.Err(); err != nil || len(gotU) != len(wantU) || len(wantU) == 0 {
		t.Fatalf("ListUnsubscribes: %d entries (err %v), want %d", len(gotU), err, len(wantU))
	}
	for i, u := range gotU {
		if u.Address != wantU[i].Address || strings.Join(u.Tags, ",") != strings.Join(wantU[i].Tags, ",") {
			t.Fatalf("unsubscribe %d: got %+v, want %+v", i, u, wantU[i])
		}
	}

	// Complaints are rare in a small account: add some so the list pages.
	for i := 0; i < 12; i++ {
		addr := string(rune('a'+i)) + ".complainer@example.net"
		if err := e.acct.AddComplaint(dom, synth.Complaint{Address: addr, CreatedAt: e.res.End.Add(-time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	wantC := e.acct.Complaints(dom)
	var gotC []mtypes.Complaint
	itC := mg.ListComplaints(dom, &mailgun.ListOptions{Limit: 5})
	var pageC []mtypes.Complaint
	for itC.Next(ctx, &pageC) {
		gotC = append(gotC, pageC...)
	}
	if err := itC.Err(); err != nil || len(gotC) != len(wantC) || len(wantC) == 0 {
		t.Fatalf("ListComplaints: %d entries (err %v), want %d", len(gotC), err, len(wantC))
	}
	for i, c := range gotC {
		if c.Address != wantC[i].Address || !time.Time(c.CreatedAt).Equal(wantC[i].CreatedAt) {
			t.Fatalf("complaint %d: got %+v, want %+v", i, c, wantC[i])
		}
	}
	if n := e.srv.Stats().SuppressionPages; n < int64(len(wantB)/20+2) {
		t.Errorf("SuppressionPages = %d, want at least %d", n, len(wantB)/20+2)
	}
}

func TestSDKDeleteAndRestore(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	ctx := context.Background()
	dom := e.res.SendingDomains[1]
	mg := e.sdk()
	orig := e.acct.Bounces(dom)
	victim := orig[3]

	got, err := mg.GetBounce(ctx, dom, victim.Address)
	if err != nil || got.Code != victim.Code || got.Error != victim.Error {
		t.Fatalf("GetBounce: %+v, %v; want %+v", got, err, victim)
	}
	if err := mg.DeleteBounce(ctx, dom, victim.Address); err != nil {
		t.Fatal(err)
	}
	_, err = mg.GetBounce(ctx, dom, victim.Address)
	if mailgun.GetStatusFromErr(err) != http.StatusNotFound || !strings.Contains(err.Error(), "Address not found in bounces table") {
		t.Fatalf("GetBounce after delete: %v, want 404 Address not found in bounces table", err)
	}
	if err := mg.DeleteBounce(ctx, dom, victim.Address); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Errorf("second DeleteBounce: %v, want 404", err)
	}
	if n := len(e.acct.Bounces(dom)); n != len(orig)-1 {
		t.Errorf("%d bounces after one delete, want %d", n, len(orig)-1)
	}

	// Restore it with its original fields (JSON batch), and add one by form.
	restore := []mtypes.Bounce{{Address: victim.Address, Code: victim.Code, Error: victim.Error, CreatedAt: mtypes.RFC2822Time(victim.CreatedAt)}}
	if err := mg.AddBounces(ctx, dom, restore); err != nil {
		t.Fatal(err)
	}
	if err := mg.AddBounce(ctx, dom, "new.bounce@example.org", "550", "5.1.1 no such user"); err != nil {
		t.Fatal(err)
	}
	back, err := mg.GetBounce(ctx, dom, victim.Address)
	if err != nil || !time.Time(back.CreatedAt).Equal(victim.CreatedAt) || back.Error != victim.Error {
		t.Errorf("restored bounce %+v (%v), want %+v", back, err, victim)
	}
	nb, err := mg.GetBounce(ctx, dom, "new.bounce@example.org")
	if err != nil || nb.Code != "550" || nb.Error != "5.1.1 no such user" || time.Since(time.Time(nb.CreatedAt)) < 0 {
		t.Errorf("added bounce %+v (%v)", nb, err)
	}
	if !time.Time(nb.CreatedAt).Equal(e.clock.Now().Truncate(time.Second)) {
		t.Errorf("added bounce created_at %v, want the server clock %v", time.Time(nb.CreatedAt), e.clock.Now())
	}

	u := e.acct.Unsubscribes(dom)[0]
	if err := mg.DeleteUnsubscribe(ctx, dom, u.Address); err != nil {
		t.Fatal(err)
	}
	if err := mg.CreateUnsubscribe(ctx, dom, u.Address, "newsletter"); err != nil {
		t.Fatal(err)
	}
	if err := mg.CreateUnsubscribes(ctx, dom, []mtypes.Unsubscribe{{Address: "batch@example.org", Tags: []string{"*"}}}); err != nil {
		t.Fatal(err)
	}
	gu, err := mg.GetUnsubscribe(ctx, dom, u.Address)
	if err != nil || strings.Join(gu.Tags, ",") != "newsletter" {
		t.Errorf("re-created unsubscribe %+v (%v), want tag newsletter", gu, err)
	}
	if err := mg.DeleteUnsubscribeWithTag(ctx, dom, u.Address, "newsletter"); err != nil {
		t.Fatal(err)
	}
	if _, err := mg.GetUnsubscribe(ctx, dom, u.Address); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Errorf("unsubscribe with its last tag removed: %v, want 404", err)
	}

	c := e.acct.Complaints(dom)[0]
	if err := mg.DeleteComplaint(ctx, dom, c.Address); err != nil {
		t.Fatal(err)
	}
	if _, err := mg.GetComplaint(ctx, dom, c.Address); !strings.Contains(errString(err), "No spam complaints found") {
		t.Errorf("GetComplaint after delete: %v", err)
	}
	if err := mg.CreateComplaint(ctx, dom, c.Address); err != nil {
		t.Fatal(err)
	}
	if err := mg.CreateComplaints(ctx, dom, []string{"c1@example.org", "c2@example.org"}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.acct.Complaints(dom)); n != len(e.res.Suppressions[dom].Complaints)+2 {
		t.Errorf("%d complaints, want %d", n, len(e.res.Suppressions[dom].Complaints)+2)
	}

	// Whole-list delete.
	if err := mg.DeleteBounceList(ctx, dom); err != nil {
		t.Fatal(err)
	}
	it := mg.ListBounces(dom, nil)
	var page []mtypes.Bounce
	if it.Next(ctx, &page) || it.Err() != nil || len(page) != 0 {
		t.Errorf("after DeleteBounceList the iterator returned %d entries (err %v)", len(page), it.Err())
	}
	if n := len(e.acct.Bounces(dom)); n != 0 {
		t.Errorf("%d bounces after DeleteBounceList", n)
	}
	if n := len(e.acct.Bounces(e.res.SendingDomains[0])); n == 0 {
		t.Error("DeleteBounceList emptied another domain's list")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type listPage struct {
	Items  []map[string]any `json:"items"`
	Paging struct {
		First, Last, Next, Previous string
	} `json:"paging"`
}

func TestSuppressionPagingRaw(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	all := e.acct.Bounces(dom)
	var p listPage
	json.Unmarshal(e.get("/v3/"+dom+"/bounces?limit=10", http.StatusOK), &p)
	base := e.hs.URL + "/v3/" + dom + "/bounces"
	wantNext := base + "?page=next&address=" + url.QueryEscape(all[9].Address) + "&limit=10&term="
	if p.Paging.Next != wantNext || p.Paging.First != base+"?limit=10&term=" || p.Paging.Last != base+"?page=last&limit=10&term=" ||
		p.Paging.Previous != base+"?page=previous&address="+url.QueryEscape(all[0].Address)+"&limit=10&term=" {
		t.Errorf("paging %+v\nwant next %s", p.Paging, wantNext)
	}
	for _, k := range []string{"address", "code", "error", "created_at"} {
		if _, ok := p.Items[0][k]; !ok {
			t.Errorf("bounce item has no %q: %v", k, p.Items[0])
		}
	}
	if ca := p.Items[0]["created_at"].(string); !strings.HasSuffix(ca, " UTC") || len(ca) != len("Thu, 11 Dec 2025 01:49:40 UTC") {
		t.Errorf("created_at %q, want the form Thu, 11 Dec 2025 01:49:40 UTC", ca)
	}
	var q listPage
	json.Unmarshal(e.get(p.Paging.Next, http.StatusOK), &q)
	if q.Items[0]["address"] != all[10].Address {
		t.Errorf("next page starts at %v, want %s", q.Items[0]["address"], all[10].Address)
	}
	var back listPage
	json.Unmarshal(e.get(q.Paging.Previous, http.StatusOK), &back)
	if len(back.Items) != 10 || back.Items[0]["address"] != all[0].Address {
		t.Errorf("previous of page 2 starts at %v, want %s", back.Items[0]["address"], all[0].Address)
	}
	var last listPage
	json.Unmarshal(e.get(p.Paging.Last, http.StatusOK), &last)
	if last.Items[len(last.Items)-1]["address"] != all[len(all)-1].Address {
		t.Errorf("last page does not end at the last address")
	}
	var end listPage
	json.Unmarshal(e.get(last.Paging.Next, http.StatusOK), &end)
	if len(end.Items) != 0 || end.Paging.Next != end.Paging.Last || end.Paging.First != end.Paging.Next {
		t.Errorf("after the last page: %d items, paging %+v; want an empty page with all links equal", len(end.Items), end.Paging)
	}
	// term matches address prefixes only.
	prefix := all[0].Address[:3]
	var tp listPage
	json.Unmarshal(e.get("/v3/"+dom+"/bounces?limit=1000&term="+url.QueryEscape(prefix), http.StatusOK), &tp)
	n := 0
	for _, b := range all {
		if strings.HasPrefix(b.Address, prefix) {
			n++
		}
	}
	if len(tp.Items) != n || !strings.HasSuffix(tp.Paging.Next, "&term="+url.QueryEscape(prefix)) {
		t.Errorf("term=%s: %d items, want %d; next %s", prefix, len(tp.Items), n, tp.Paging.Next)
	}
	e.get("/v3/"+dom+"/bounces?limit=1001", http.StatusBadRequest)
	e.get("/v3/"+dom+"/bounces?limit=1000", http.StatusOK)
	e.get("/v3/nosuch.example.com/bounces", http.StatusNotFound)
	e.get("/v3/"+dom+"/bounces/nobody@nowhere.example", http.StatusNotFound)
}

func TestAllowlist(t *testing.T) {
	e := newEnv(t, smallConfig(), Options{})
	dom := e.res.SendingDomains[0]
	var p listPage
	json.Unmarshal(e.get("/v3/"+dom+"/whitelists", http.StatusOK), &p)
	want := e.res.Suppressions[dom].Allowlist
	if len(p.Items) != len(want) || p.Items[0]["value"] != want[0].Value || p.Items[0]["createdAt"] == nil || p.Items[0]["type"] == nil {
		t.Fatalf("allowlist items %v, want %d entries with type, value, reason, createdAt", p.Items, len(want))
	}
	r, err := e.do(http.MethodPost, "/v3/"+dom+"/whitelists", "application/x-www-form-urlencoded", strings.NewReader("domain=partner.example&reason=partner"))
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("add allowlist domain: %d %s %v", r.status, r.body, err)
	}
	got := e.acct.Allowlist(dom)
	found := false
	for _, a := range got {
		found = found || a.Type == "domain" && a.Value == "partner.example" && a.Reason == "partner"
	}
	if !found {
		t.Errorf("allowlist %v lacks the added domain", got)
	}
	r, _ = e.do(http.MethodDelete, "/v3/"+dom+"/whitelists/partner.example", "", nil)
	if r.status != http.StatusOK || len(e.acct.Allowlist(dom)) != len(want) {
		t.Errorf("delete allowlist entry: %d %s", r.status, r.body)
	}
	r, _ = e.do(http.MethodDelete, "/v3/"+dom+"/whitelists/partner.example", "", nil)
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "allowlist") {
		t.Errorf("second delete: %d %s", r.status, r.body)
	}
}

func TestAccountMutations(t *testing.T) {
	acct, res, err := FromSynth(context.Background(), smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	dom := res.SendingDomains[0]
	n := len(acct.Bounces(dom))
	if err := acct.AddBounce(dom, synth.Bounce{Address: "Zed@Example.org", Code: "550", CreatedAt: res.End}); err != nil {
		t.Fatal(err)
	}
	if ok, err := acct.Delete(dom, Bounces, "zed@example.org"); !ok || err != nil {
		t.Errorf("Delete of an address added in another case: %v, %v", ok, err)
	}
	if k, err := acct.Clear(dom, Complaints); err != nil || k != len(res.Suppressions[dom].Complaints) || len(acct.Complaints(dom)) != 0 {
		t.Errorf("Clear complaints: %d, %v", k, err)
	}
	if len(acct.Bounces(dom)) != n {
		t.Errorf("bounces %d, want %d", len(acct.Bounces(dom)), n)
	}
	if _, err := acct.Delete("nosuch.example.com", Bounces, "x@y.z"); err == nil {
		t.Error("Delete on an unknown domain: no error")
	}
}
