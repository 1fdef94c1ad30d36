package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// table is what every listing renders from in table and CSV form.
type table struct {
	title   string
	columns []string
	rows    [][]any
}

func (t *table) add(cells ...any) { t.rows = append(t.rows, cells) }

// render writes a command's result in the chosen format: JSON of v (the
// documented contract), or the tables as aligned text for a terminal,
// tab-separated text for a pipe, or CSV (sections separated by a blank line).
func render(w io.Writer, format string, v any, tables ...*table) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	case "csv":
		for i, t := range tables {
			if i > 0 {
				fmt.Fprintln(w)
			}
			cw := csv.NewWriter(w)
			cw.Write(t.columns)
			for _, r := range t.rows {
				rec := make([]string, len(r))
				for j, c := range r {
					rec[j] = cellText(c)
				}
				cw.Write(rec)
			}
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		return nil
	}
	tty := isTerminal(w)
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if t.title != "" && tty {
			fmt.Fprintln(w, t.title)
		}
		if !tty {
			fmt.Fprintln(w, strings.Join(t.columns, "\t"))
			for _, r := range t.rows {
				cells := make([]string, len(r))
				for j, c := range r {
					cells[j] = strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ").Replace(cellText(c))
				}
				fmt.Fprintln(w, strings.Join(cells, "\t"))
			}
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.columns, "\t")))
		rows := make([][]string, len(t.rows))
		for i, r := range t.rows {
			rows[i] = make([]string, len(r))
			for j, c := range r {
				rows[i][j] = strings.ReplaceAll(truncate(cellText(c), 120), "\t", " ")
			}
		}
		fitLast(t.columns, rows, terminalWidth(w))
		for _, cells := range rows {
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if len(t.rows) == 0 {
			fmt.Fprintln(tw, "(none)")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func cellText(c any) string {
	switch v := c.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(c)
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// fitLast cuts the last column (a reply, a description: the long one)
// with an ellipsis so that each line fits width columns, as tabwriter
// aligns them with two spaces between; other columns keep up to 120
// characters. JSON and CSV give every text whole. width <= 0: no cut.
func fitLast(header []string, rows [][]string, width int) {
	if width <= 0 || len(header) < 2 {
		return
	}
	widths := make([]int, len(header)-1)
	for j := range widths {
		widths[j] = utf8.RuneCountInString(header[j])
	}
	for _, r := range rows {
		for j := range widths {
			if j < len(r) {
				widths[j] = max(widths[j], utf8.RuneCountInString(r[j]))
			}
		}
	}
	used := 0
	for _, w := range widths {
		used += w + 2
	}
	room := max(width-used, 20) // a last column narrower than this says nothing: let the line wrap
	for _, r := range rows {
		if last := len(header) - 1; last < len(r) {
			r[last] = truncate(r[last], room)
		}
	}
}

// terminalWidth is the width of the terminal w writes to, 0 when unknown.
func terminalWidth(w io.Writer) int {
	if p, ok := w.(*printableWriter); ok {
		w = p.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

func isTerminal(w io.Writer) bool {
	if p, ok := w.(*printableWriter); ok {
		w = p.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
