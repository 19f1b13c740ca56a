package publish

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/deepreview/deep-review/render"
	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
)

// Written lists the files an out dir holds after WriteOutDir.
type Written struct {
	Dir      string
	Markdown string
	Comment  string
	HTML     string
	JSON     string
	SARIF    string
	Raw      []string
}

// WriteOutDir renders every format into dir: each file is written whole to
// a temporary name and renamed, so a reader never sees half a report. Raw
// transcripts (raw/NAME.json, one per result) go through render.Scrub, the
// scrubber the report's code and JSON go through: configured secrets and
// the well-known token shapes are redacted.
func WriteOutDir(dir string, r *review.Report, results []agent.Result, o render.Options) (Written, error) {
	w := Written{Dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "raw"), 0o755); err != nil {
		return w, fmt.Errorf("create out dir: %w", err)
	}
	redacted, err := render.Redact(r, o)
	if err != nil {
		return w, err
	}
	jsonBytes, err := render.JSON(redacted)
	if err != nil {
		return w, err
	}
	html, err := render.HTML(r, o)
	if err != nil {
		return w, err
	}
	sarif, err := render.SARIF(r, o)
	if err != nil {
		return w, err
	}
	files := []struct {
		name string
		data []byte
		dst  *string
	}{
		{"report.json", jsonBytes, &w.JSON},
		{"report.md", render.Markdown(r, o), &w.Markdown},
		{"comment.md", render.Comment(r, o), &w.Comment},
		{"report.html", html, &w.HTML},
		{"report.sarif", sarif, &w.SARIF},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := writeFileAtomic(path, f.data); err != nil {
			return w, err
		}
		*f.dst = path
	}
	for _, res := range results {
		data, err := json.MarshalIndent(RawRecord{Run: res.Run, Transcript: res.Transcript}, "", "  ")
		if err != nil {
			return w, fmt.Errorf("encode raw output of %s: %w", res.Run.Name, err)
		}
		data = []byte(render.Scrub(string(data), o))
		path := filepath.Join(dir, "raw", FileName(res.Run.Name)+".json")
		if err := writeFileAtomic(path, append(data, '\n')); err != nil {
			return w, err
		}
		w.Raw = append(w.Raw, path)
	}
	return w, nil
}

// RawRecord is one reviewer's raw output in raw/: what it did, what it
// submitted and every message of its conversation.
type RawRecord struct {
	Run        review.Run       `json:"run"`
	Transcript agent.Transcript `json:"transcript"`
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// FileName makes a reviewer's name safe as a file name: lower case, with
// every character but letters, digits, '-' and '.' replaced by '-'.
func FileName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-.")
}
