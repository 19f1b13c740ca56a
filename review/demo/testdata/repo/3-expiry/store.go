// Package shortlink stores short codes for long URLs and serves redirects.
package shortlink

import (
	"errors"
	"sync"
	"time"
)

// ErrNotFound is returned for a code that is not stored.
var ErrNotFound = errors.New("shortlink: code not found")

// ErrExpired is returned for a link whose expiry has passed.
var ErrExpired = errors.New("shortlink: link expired")

// Link is one stored short link. A zero Expires means the link never expires.
type Link struct {
	Code    string    `json:"code"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// Store keeps links in memory. It is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	links map[string]Link
	now   func() time.Time
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{links: make(map[string]Link), now: time.Now}
}

// Put stores l, replacing any link with the same code.
func (s *Store) Put(l Link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links[l.Code] = l
}

// Get returns the link stored under code, or ErrExpired once it has expired.
func (s *Store) Get(code string) (Link, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.links[code]
	if !ok {
		return Link{}, ErrNotFound
	}
	if s.now().After(l.Expires) {
		return Link{}, ErrExpired
	}
	return l, nil
}
