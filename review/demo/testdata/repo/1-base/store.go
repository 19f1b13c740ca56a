// Package shortlink stores short codes for long URLs and serves redirects.
package shortlink

import (
	"errors"
	"sync"
)

// ErrNotFound is returned for a code that is not stored.
var ErrNotFound = errors.New("shortlink: code not found")

// Link is one stored short link.
type Link struct {
	Code string `json:"code"`
	URL  string `json:"url"`
}

// Store keeps links in memory. It is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	links map[string]Link
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{links: make(map[string]Link)}
}

// Put stores l, replacing any link with the same code.
func (s *Store) Put(l Link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links[l.Code] = l
}

// Get returns the link stored under code.
func (s *Store) Get(code string) (Link, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.links[code]
	if !ok {
		return Link{}, ErrNotFound
	}
	return l, nil
}
