package pr

import "fmt"

// Default gather limits.
const (
	// DefaultMaxFileBytes bounds one file's part of the diff: the size
	// read_file still shows whole.
	DefaultMaxFileBytes = 2 << 20
	// DefaultMaxDiffBytes bounds the whole diff a gather keeps.
	DefaultMaxDiffBytes = 32 << 20
)

// Limits bound the diff one gather holds in memory. Files beyond them are
// left out of PR.Diff and PR.Files and listed in PR.Skipped with the reason,
// like filtered files; reviewers can still read them with their tools. The
// zero value is the defaults.
type Limits struct {
	// MaxFileBytes bounds one file's diff; 0 is DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxDiffBytes bounds the whole diff: files are taken in git's order
	// until the next would pass it; 0 is DefaultMaxDiffBytes.
	MaxDiffBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxDiffBytes <= 0 {
		l.MaxDiffBytes = DefaultMaxDiffBytes
	}
	return l
}

// fileReason is the skip reason of a file whose diff has size bytes (at
// least, when estimated).
func (l Limits) fileReason(size int64, estimated bool) string {
	about := ""
	if estimated {
		about = "at least "
	}
	return fmt.Sprintf("too large: its diff has %s%d bytes, over the limit of %d bytes per file", about, size, l.MaxFileBytes)
}

// totalReason is the skip reason of a file past the total.
func (l Limits) totalReason() string {
	return fmt.Sprintf("too large: the diff reached its total limit of %d bytes before this file", l.MaxDiffBytes)
}
