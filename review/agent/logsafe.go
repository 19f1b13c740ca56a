package agent

import (
	"strings"
	"unicode"
)

// LogSafe makes text that came from a model or a provider (tool names,
// arguments, error messages) safe to print into a GitHub Actions log: it
// drops control characters other than newline and tab (escape sequences,
// carriage returns, NUL, C1 controls, Unicode line separators), and
// neutralises a workflow command at the start of any line, after optional
// whitespace, as the runner reads one ("::warning::", "::stop-commands::",
// the legacy "##[group]"), by breaking its leading pair with a space. Text
// with neither is returned unchanged. Every log line built from such text
// goes through LogSafe or LogLine.
func LogSafe(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 && !strings.Contains(s, "::") && !strings.Contains(s, "##[") {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return -1
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		rest := strings.TrimLeft(line, " \t")
		lead := line[:len(line)-len(rest)]
		switch {
		case strings.HasPrefix(rest, "::"):
			lines[i] = lead + ": :" + rest[2:]
		case strings.HasPrefix(rest, "##["):
			lines[i] = lead + "# #[" + rest[3:]
		}
	}
	return strings.Join(lines, "\n")
}

// LogLine is LogSafe for text that must stay on one log line: newlines
// become spaces first.
func LogLine(s string) string {
	return LogSafe(strings.ReplaceAll(s, "\n", " "))
}

func unsafeRune(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff'
}
