// Package report renders the results of the analyses into one
// self-contained HTML delivery-health report: alerts, summary cards with a
// comparison to the previous period, charts (ECharts, inlined) each with a
// plain-text summary, and tables.
//
// It only formats what it is given in a Data: it never opens the index,
// never imports index, analyze or ingest, and never reads the clock. The
// page makes no network request when opened, works without JavaScript
// (tables, alerts and summaries), prints cleanly, and escapes every string,
// since subjects, addresses and server replies are attacker-controlled.
package report
