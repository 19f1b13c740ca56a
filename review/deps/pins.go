package deps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/mod/modfile"
)

// Manifests are the files whose presence makes the dependency tool useful.
var Manifests = []string{"go.mod", "package-lock.json"}

// Pins are what the head's manifests pin: go.mod with go.sum and
// vendor/modules.txt, and package-lock.json. The zero value pins nothing.
type Pins struct {
	gomod    *modfile.File
	gomodErr error
	gosum    map[string]string // "path version" -> "h1:..."
	vendored map[string]bool   // module paths vendor/modules.txt lists

	lock    *lockfile
	lockErr error
}

// LoadPins reads the manifests at the root of the head. A manifest that is
// missing pins nothing; one that does not parse is kept as the reason every
// lookup in its ecosystem is refused. The error is only for a failed read.
func LoadPins(ctx context.Context, head Head) (*Pins, error) {
	p := &Pins{}
	data, ok, err := readOptional(ctx, head, "go.mod")
	if err != nil {
		return nil, err
	}
	if ok {
		p.gomod, p.gomodErr = modfile.Parse("go.mod", data, nil)
		if p.gomodErr != nil {
			p.gomodErr = refuse("go.mod at the head does not parse: %v", p.gomodErr)
		}
		sum, _, err := readOptional(ctx, head, "go.sum")
		if err != nil {
			return nil, err
		}
		p.gosum = parseGoSum(sum)
		txt, _, err := readOptional(ctx, head, "vendor/modules.txt")
		if err != nil {
			return nil, err
		}
		p.vendored = parseModulesTxt(txt)
	}
	data, ok, err = readOptional(ctx, head, "package-lock.json")
	if err != nil {
		return nil, err
	}
	if ok {
		var l lockfile
		if err := json.Unmarshal(data, &l); err != nil {
			p.lockErr = refuse("package-lock.json at the head is not valid JSON: %v", err)
		} else {
			p.lock = &l
		}
	}
	return p, nil
}

// Ecosystems are the ecosystems the head has a manifest for, in the order
// Go, NPM.
func (p *Pins) Ecosystems() []string {
	var out []string
	if p.gomod != nil || p.gomodErr != nil {
		out = append(out, Go)
	}
	if p.lock != nil || p.lockErr != nil {
		out = append(out, NPM)
	}
	return out
}

func readOptional(ctx context.Context, head Head, name string) ([]byte, bool, error) {
	data, err := head.ReadFile(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, fmt.Errorf("read %s at the head: %w", name, err)
	}
	return data, true, nil
}

// parseGoSum maps "path version" to its h1: hash. Lines for go.mod files
// alone ("version/go.mod") are kept under their own key.
func parseGoSum(data []byte) map[string]string {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && strings.HasPrefix(f[2], "h1:") {
			sums[f[0]+" "+f[1]] = f[2]
		}
	}
	return sums
}

// parseModulesTxt lists the modules vendor/modules.txt names in its
// "# path version" lines.
func parseModulesTxt(data []byte) map[string]bool {
	mods := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "# ") {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(line, "# "))
		if len(f) >= 2 {
			mods[f[0]] = true
		}
	}
	return mods
}
