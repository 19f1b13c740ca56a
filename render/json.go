package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/deepreview/deep-review/review"
)

// JSON renders report.json: the report with the design's field names,
// indented, ending in a newline, with "schema" set to review.SchemaVersion
// when the report leaves it zero. It is the source of the other formats, so
// text is kept as written except that well-known token shapes (ghp_, sk-,
// AIza...) become "[redacted]" and state markers are defused; r is not
// modified. The output decodes back into an equal review.Report (fields
// tagged json:"-" aside).
func JSON(r *review.Report) ([]byte, error) {
	c, err := scrubbedCopy(r, newScrubber(Options{}))
	if err != nil {
		return nil, err
	}
	if c.Schema == 0 {
		c.Schema = review.SchemaVersion
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode report.json for PR #%d: %w", r.PR.Number, err)
	}
	return b.Bytes(), nil
}

// Redact returns a copy of r in which every string has its secrets
// (o.Secrets and the well-known token shapes) replaced by "[redacted]" and
// any state marker defused, for callers that write report.json: JSON alone
// cannot know the configured secrets. Fields tagged json:"-" are not
// copied. r is not modified.
func Redact(r *review.Report, o Options) (*review.Report, error) {
	return scrubbedCopy(r, newScrubber(o))
}

// scrubbedCopy deep-copies r through its JSON form and scrubs every string
// in the copy of secrets and markers.
func scrubbedCopy(r *review.Report, s *scrubber) (*review.Report, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode report for PR #%d: %w", r.PR.Number, err)
	}
	var c review.Report
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("copy report for PR #%d: %w", r.PR.Number, err)
	}
	scrubStrings(reflect.ValueOf(&c).Elem(), s)
	return &c, nil
}

// scrubStrings applies s.code to every settable string reachable from v
// (map keys aside: they are tool names).
func scrubStrings(v reflect.Value, s *scrubber) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(s.code(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scrubStrings(v.Elem(), s)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				scrubStrings(v.Field(i), s)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			scrubStrings(v.Index(i), s)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.String {
				v.SetMapIndex(k, reflect.ValueOf(s.code(e.String())).Convert(e.Type()))
			}
		}
	}
}
