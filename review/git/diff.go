package git

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// FileDiff is one file's part of a git unified diff: its text, from its
// "diff --git" line to the next, and the part as go-gitdiff parses it.
type FileDiff struct {
	// Text is the part's bytes; for a part cut by ReadDiff, only its start.
	Text string
	// File is the parsed part, or nil when it does not parse or was cut.
	File *gitdiff.File
	// Size is the part's whole length in bytes, cut or not.
	Size int64
	// Cut says the part was longer than ReadDiff's limit: Text holds its
	// first bytes only and File is nil.
	Cut bool
}

// Name is the path the part is about: the new path, or the old one for a
// deleted file; for a part that does not parse, the header's new path
// when it is unquoted, else "".
func (d FileDiff) Name() string {
	if d.File == nil {
		return headerName(d.Text)
	}
	if d.File.IsDelete {
		return d.File.OldName
	}
	return d.File.NewName
}

// Paths are the paths the part names, old then new, without repeats.
func (d FileDiff) Paths() []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	if d.File != nil {
		add(d.File.OldName)
		add(d.File.NewName)
	}
	add(headerName(d.Text))
	return out
}

// headerName reads the new path from an unquoted "diff --git a/X b/Y" line.
// For an unrenamed file the halves are equal, which finds X even when it
// holds " b/".
func headerName(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	rest, ok := strings.CutPrefix(line, "diff --git ")
	if !ok || strings.HasPrefix(rest, `"`) {
		return ""
	}
	if n := len(rest); n%2 == 1 && n > 5 && strings.HasPrefix(rest, "a/") {
		l := (n - 5) / 2 // "a/" X " b/" X
		if rest[2+l:5+l] == " b/" && rest[2:2+l] == rest[5+l:] {
			return rest[5+l:]
		}
	}
	i := strings.LastIndex(rest, " b/")
	if i < 0 {
		return ""
	}
	return rest[i+len(" b/"):]
}

const diffHeader = "diff --git "

// SplitDiff cuts a git unified diff into one part per file, in order, each
// parsed. Every byte from the first file header on lands in exactly one
// part; text before it is dropped.
func SplitDiff(diff string) []FileDiff {
	var parts []FileDiff
	_ = ReadDiff(strings.NewReader(diff), 0, func(d FileDiff) error {
		parts = append(parts, d)
		return nil
	})
	return parts
}

// ReadDiff reads a git unified diff from r and calls fn with each file's
// part as soon as it is complete, so only one part is held at a time. A
// part longer than max bytes (max > 0) is not kept whole: fn gets it with
// Cut set and its first max bytes. An error from fn or from r ends the read
// and is returned.
func ReadDiff(r io.Reader, max int64, fn func(FileDiff) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur bytes.Buffer
	var size int64
	started, cut := false, false
	emit := func() error {
		if !started {
			return nil
		}
		d := FileDiff{Text: cur.String(), Size: size, Cut: cut}
		if !cut {
			d.File = parseOne(d.Text)
		}
		cur.Reset()
		size, cut = 0, false
		return fn(d)
	}
	atLineStart := true
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if atLineStart && bytes.HasPrefix(line, []byte(diffHeader)) {
				if err := emit(); err != nil {
					return err
				}
				started = true
			}
			if started {
				size += int64(len(line))
				switch {
				case cut:
				case max > 0 && size > max:
					cut = true
					cur.Write(line[:max-(size-int64(len(line)))])
				default:
					cur.Write(line)
				}
			}
			atLineStart = line[len(line)-1] == '\n'
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			return emit()
		case err != nil:
			return err
		}
	}
}

// parseOne parses one file's diff, or returns nil.
func parseOne(text string) *gitdiff.File {
	files, _, err := gitdiff.Parse(strings.NewReader(text))
	if err != nil || len(files) != 1 {
		return nil
	}
	return files[0]
}
