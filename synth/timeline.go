package synth

import "slices"

// timeline shapes traffic over the time range: a daily rhythm, quieter
// weekends, day-to-day noise and newsletter campaigns that burst for two
// hours. Background messages are placed by "virtual time" u in [0, 1): the
// share of all traffic sent before them, so that the adaptive rate in
// Generate only has to think in u.
type timeline struct {
	start, end int64 // microseconds
	cum        []float64
	campaign   []int32 // per hour: campaign index, or -1
	cshare     []float64
	campaigns  []*campaign
	cursor     int // hour of the last lookup; u only grows
}

type campaign struct {
	sender  *sender
	subject string
	slug    string
}

const hourUS = int64(3600 * 1e6)
const dayUS = 24 * hourUS

var diurnal = [24]float64{0.30, 0.25, 0.22, 0.22, 0.28, 0.40, 0.60, 0.80, 0.95, 1.05, 1.10, 1.10,
	1.10, 1.15, 1.20, 1.25, 1.25, 1.20, 1.10, 1.00, 0.85, 0.70, 0.55, 0.40}

// campaignPlan says when each archetype sends newsletters: weekdays
// (0 = Sunday), hour (UTC) and every how many weeks.
var campaignPlan = []struct {
	days  []int
	hour  int
	weeks int64
}{
	{[]int{0, 3}, 10, 1},
	{[]int{2}, 14, 2},
	{[]int{5}, 8, 1},
	{[]int{2, 4, 6}, 15, 1},
}

// campaignHours is how long a campaign takes to go out; campaignBoost is its
// hourly volume relative to an average hour of all traffic.
const (
	campaignHours = 2
	campaignBoost = 6.0
)

// Without campaigns, only the forced ones (the stories') are sent.
func newTimeline(seed int64, start, end int64, senders []*sender, forced map[int64]*sender, campaigns bool) *timeline {
	r := newRNG(seed, streamTimeline)
	hours := int((end - start + hourUS - 1) / hourUS)
	tl := &timeline{start: start, end: end}
	w := make([]float64, hours)
	tl.campaign = make([]int32, hours)
	tl.cshare = make([]float64, hours)
	total := 0.0
	for h := 0; h < hours; h++ {
		t := start + int64(h)*hourUS
		secs := t / 1e6
		wd := int((secs/86400 + 4) % 7) // 1970-01-01 was a Thursday
		x := diurnal[secs/3600%24] * (0.85 + 0.3*r.float())
		if wd == 0 || wd == 6 {
			x *= 0.6
		}
		if rest := end - t; rest < hourUS {
			x *= float64(rest) / float64(hourUS)
		}
		w[h] = x
		tl.campaign[h] = -1
		total += x
	}
	avg := total / float64(hours)
	// Campaigns start on the hour.
	first := (start + hourUS - 1) / hourUS * hourUS
	for t := first; t < end; t += hourUS {
		h := int((t - start) / hourUS)
		secs := t / 1e6
		wd := int((secs/86400 + 4) % 7)
		hourOfDay := int(secs / 3600 % 24)
		week := secs / 86400 / 7
		for _, s := range senders {
			plan := campaignPlan[s.idx%len(campaignPlan)]
			due := campaigns && hourOfDay == plan.hour && week%plan.weeks == int64(s.idx)%plan.weeks && slices.Contains(plan.days, wd)
			if f := forced[t]; f != nil {
				due = f == s
			}
			if !due || tl.campaign[h] >= 0 {
				continue
			}
			c := &campaign{sender: s, subject: s.profile.newsletters[r.intn(len(s.profile.newsletters))]}
			c.slug = string(appendISO(nil, t, 3)[:10]) + "-" + s.brandSlug()
			tl.campaigns = append(tl.campaigns, c)
			for k := 0; k < campaignHours && h+k < hours; k++ {
				extra := avg * campaignBoost * s.weight
				tl.campaign[h+k] = int32(len(tl.campaigns) - 1)
				tl.cshare[h+k] = extra / (w[h+k] + extra)
				w[h+k] += extra
			}
		}
	}
	tl.cum = make([]float64, hours+1)
	for h := 0; h < hours; h++ {
		tl.cum[h+1] = tl.cum[h] + w[h]
	}
	sum := tl.cum[hours]
	for h := range tl.cum {
		tl.cum[h] /= sum
	}
	return tl
}

func (s *sender) brandSlug() string {
	b := []byte(s.site)
	for i, c := range b {
		if c == '.' {
			return string(b[:i])
		}
	}
	return string(b)
}

// at maps virtual time u to real time and returns the hour it falls in.
// Successive calls must not decrease u.
func (tl *timeline) at(u float64) (int64, int) {
	n := len(tl.cum) - 1
	h := tl.cursor
	for h < n-1 && tl.cum[h+1] <= u {
		h++
	}
	tl.cursor = h
	span := tl.cum[h+1] - tl.cum[h]
	frac := 0.0
	if span > 0 {
		frac = (u - tl.cum[h]) / span
	}
	frac = min(max(frac, 0), 1)
	hourStart := tl.start + int64(h)*hourUS
	length := min(hourUS, tl.end-hourStart)
	t := hourStart + int64(frac*float64(length))
	if t >= tl.end {
		t = tl.end - 1
	}
	return t, h
}
