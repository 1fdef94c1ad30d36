// Package report renders a delivery-health result (analyze.HealthResult)
// into one self-contained HTML report: alerts, summary cards with a
// comparison to the previous period, charts (ECharts, inlined) each with a
// plain-text summary, and tables.
//
// It only formats what the analysis decided: numbers, dates, shares and
// the charts' data; every verdict and sentence comes in the result. It
// imports analyze for the result's types only: it never opens a store,
// never imports index or ingest, and never reads the clock. The page makes
// no network request when opened, works without JavaScript (tables,
// alerts and summaries), prints cleanly, and escapes every string, since
// subjects, addresses and server replies are attacker-controlled.
package report
