package maildiag

// MatchGlob reports whether s matches pat, where * matches any run of
// bytes and ? any one byte; nothing else is special. Address patterns,
// the gateway table's host patterns and the index's lookups all match
// with it, so a pattern means the same everywhere.
func MatchGlob(pat, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(pat) && pat[i] == '*':
			star, mark = i, j
			i++
		case i < len(pat) && (pat[i] == '?' || pat[i] == s[j]):
			i++
			j++
		case star >= 0:
			i = star + 1
			mark++
			j = mark
		default:
			return false
		}
	}
	for i < len(pat) && pat[i] == '*' {
		i++
	}
	return i == len(pat)
}
