package maildiag

import (
	"fmt"
	"strings"
)

// Plural says n units: 1 day, 2 days, 3 addresses.
func Plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	if strings.HasSuffix(unit, "s") {
		return fmt.Sprintf("%d %ses", n, unit)
	}
	if strings.HasSuffix(unit, "y") && !strings.HasSuffix(unit, "ay") && !strings.HasSuffix(unit, "ey") {
		return fmt.Sprintf("%d %sies", n, unit[:len(unit)-1])
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
