package ghclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientURLs(t *testing.T) {
	c, err := New(Options{})
	if err != nil || c.BaseURL.String() != "https://api.github.com/" {
		t.Errorf("default BaseURL = %v, %v", c.BaseURL, err)
	}
	c, err = New(Options{APIURL: "https://ghe.example.com/api/v3"})
	if err != nil || c.BaseURL.String() != "https://ghe.example.com/api/v3/" || c.UploadURL.String() != "https://ghe.example.com/api/uploads/" {
		t.Errorf("GHES URLs = %v %v, %v", c.BaseURL, c.UploadURL, err)
	}
	if _, err := New(Options{APIURL: "ghe.example.com"}); err == nil || !strings.Contains(err.Error(), "GITHUB_API_URL") {
		t.Errorf("a URL without a scheme: %v, want an error naming GITHUB_API_URL", err)
	}
	for in, want := range map[string]string{
		"":                               "https://api.github.com/graphql",
		"https://api.github.com":         "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3": "https://ghe.example.com/api/graphql",
	} {
		if got := GraphQLURL(in); got != want {
			t.Errorf("GraphQLURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenGoesToItsOwnHostsOnly(t *testing.T) {
	var other http.Header
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other = r.Header.Clone()
		reply(http.StatusOK, nil, repoJSON)(w, r)
	}))
	defer elsewhere.Close()
	s := newServer(t)
	var auth string
	s.on("GET", "/repos/octocat/Hello-World", func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		http.Redirect(w, r, elsewhere.URL+"/moved", http.StatusFound)
	})
	gc := s.client(t, newClock(), Policy{})
	if _, _, err := gc.Repositories.Get(context.Background(), "octocat", "Hello-World"); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer "+testToken {
		t.Errorf("the API host got Authorization %q", auth)
	}
	if other == nil {
		t.Fatal("the redirect was not followed")
	}
	if a := other.Get("Authorization"); a != "" {
		t.Errorf("the other host got Authorization %q", a)
	}
}
