package shortlink

import "testing"

func TestPutGet(t *testing.T) {
	s := NewStore()
	s.Put(Link{Code: "go", URL: "https://go.dev"})
	l, err := s.Get("go")
	if err != nil || l.URL != "https://go.dev" {
		t.Fatalf("Get(go) = %+v, %v", l, err)
	}
	if _, err := s.Get("nope"); err != ErrNotFound {
		t.Fatalf("Get(nope) err = %v, want ErrNotFound", err)
	}
}
