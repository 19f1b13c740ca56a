package deps

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// extractTarGz unpacks an npm tarball into dir in two passes over the
// file: the first checks every entry and the sizes, refusing the archive
// whole if one entry is unsafe, so nothing is written for a bad archive;
// the second writes regular files and directories through an os.Root on
// dir, which no path can leave. The first path element ("package/" in
// npm's layout) is stripped, as npm does. Links and special files are
// skipped, never created.
func extractTarGz(name, dir string, limit int64) error {
	if err := walkTarGz(name, limit, nil); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("deps: open %s: %w", dir, err)
	}
	defer root.Close()
	return walkTarGz(name, limit, func(rel string, hdr *tar.Header, r io.Reader) error {
		if hdr.Typeflag == tar.TypeDir {
			return root.MkdirAll(rel, 0o755)
		}
		if d := path.Dir(rel); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		w, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, io.LimitReader(r, hdr.Size))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// walkTarGz reads the tarball, checks each entry and calls write (when set)
// for each regular file and directory with its path below the first
// element. Every failure of the archive itself is a *Refusal.
func walkTarGz(name string, limit int64, write func(rel string, hdr *tar.Header, r io.Reader) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("deps: open %s: %w", name, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return refuse("the tarball is not gzip: %v", err)
	}
	// Bound what is decompressed, headers and padding included, so a
	// gzip bomb stops here.
	lr := &io.LimitedReader{R: gz, N: limit + limit/8 + 1<<20}
	tr := tar.NewReader(lr)
	var total int64
	files := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if lr.N <= 0 {
				return refuse("the tarball is over the %d-byte limit once extracted", limit)
			}
			return refuse("the tarball is not a valid tar archive: %v", err)
		}
		rel, err := tarPath(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeDir:
		default:
			continue // links, devices, FIFOs and global headers are never created
		}
		if rel == "" {
			continue // the package/ directory itself
		}
		if hdr.Typeflag == tar.TypeReg {
			files++
			total += hdr.Size
			if hdr.Size < 0 || total > limit {
				return refuse("the tarball is over the %d-byte limit once extracted", limit)
			}
			if files > maxArchiveFiles {
				return refuse("the tarball has over %d files", maxArchiveFiles)
			}
		}
		if write != nil {
			if err := write(rel, hdr, tr); err != nil {
				if lr.N <= 0 {
					return refuse("the tarball is over the %d-byte limit once extracted", limit)
				}
				return refuse("the tarball's entry %q could not be extracted: %v", hdr.Name, err)
			}
		}
	}
}

// tarPath checks an entry's name and returns it without its first
// element. An absolute name, a ".." element, a backslash or a NUL byte
// refuses the archive.
func tarPath(name string) (string, error) {
	bad := func(why string) error {
		return refuse("the tarball's entry %q %s; the archive is refused", name, why)
	}
	switch {
	case strings.ContainsAny(name, "\\\x00"):
		return "", bad("holds a backslash or NUL byte")
	case path.IsAbs(name) || len(name) >= 2 && name[1] == ':':
		return "", bad("is absolute")
	}
	for _, e := range strings.Split(name, "/") {
		if e == ".." {
			return "", bad("leaves the package (a .. element)")
		}
	}
	_, rel, _ := strings.Cut(path.Clean(name), "/")
	return rel, nil
}
