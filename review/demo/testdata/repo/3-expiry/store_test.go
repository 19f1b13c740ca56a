package shortlink

import (
	"testing"
	"time"
)

func TestPutGet(t *testing.T) {
	s := NewStore()
	s.Put(Link{Code: "go", URL: "https://go.dev", Expires: time.Now().Add(time.Hour)})
	l, err := s.Get("go")
	if err != nil || l.URL != "https://go.dev" {
		t.Fatalf("Get(go) = %+v, %v", l, err)
	}
	if _, err := s.Get("nope"); err != ErrNotFound {
		t.Fatalf("Get(nope) err = %v, want ErrNotFound", err)
	}
}

func TestExpiredLink(t *testing.T) {
	s := NewStore()
	s.Put(Link{Code: "old", URL: "https://example.com", Expires: time.Now().Add(-time.Minute)})
	if _, err := s.Get("old"); err != ErrExpired {
		t.Fatalf("Get(old) err = %v, want ErrExpired", err)
	}
}
