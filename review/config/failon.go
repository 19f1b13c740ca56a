package config

import (
	"fmt"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// FailOn is the fail-on setting: the severity of findings that fails the
// step. The zero value means FailOnNever.
type FailOn string

// The fail-on values.
const (
	FailOnNever     FailOn = "never"
	FailOnImportant FailOn = "important"
	FailOnCritical  FailOn = "critical"
)

// ParseFailOn reads a fail-on value, ignoring case and surrounding space.
func ParseFailOn(s string) (FailOn, error) {
	switch f := FailOn(strings.ToLower(strings.TrimSpace(s))); f {
	case FailOnNever, FailOnImportant, FailOnCritical:
		return f, nil
	}
	return "", fmt.Errorf("%q is not one of never, important, critical", s)
}

// Reason says why f fails the step for these counts, or "" when it does not.
func (f FailOn) Reason(c review.Counts) string {
	switch f {
	case "", FailOnNever:
		return ""
	case FailOnCritical:
		if c.Critical > 0 {
			return fmt.Sprintf("fail-on is critical and the review found %d critical finding(s)", c.Critical)
		}
		return ""
	case FailOnImportant:
		if c.Critical+c.Important > 0 {
			return fmt.Sprintf("fail-on is important and the review found %d critical and %d important finding(s)", c.Critical, c.Important)
		}
		return ""
	}
	return fmt.Sprintf("fail-on %q is not one of never, important, critical: fix the fail-on input", string(f))
}
