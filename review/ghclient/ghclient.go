// Package ghclient is deep-review's one way to reach the GitHub API: it
// builds the go-github client (GitHub.com or GitHub Enterprise Server, the
// token sent to its own hosts only) on a transport that bounds every attempt
// with a deadline and retries what GitHub asks to be retried — 502, 503 and
// 504 hiccups, stalled or dropped connections, secondary and primary rate
// limits — and spaces content-creating requests as GitHub asks. Both the
// gather (review/pr) and the publisher (review/publish) use it.
package ghclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// DefaultAPIURL is GitHub.com's REST API.
const DefaultAPIURL = "https://api.github.com"

// Options says how to reach the API.
type Options struct {
	// APIURL is the REST API ("" is https://api.github.com; any other host is
	// GitHub Enterprise Server, whose API lives under /api/v3).
	APIURL string
	// Token, when not empty, is sent only to the API's own host and to
	// ExtraHosts (e.g. the GraphQL endpoint's), never to a host a redirect
	// leads to.
	Token      string
	ExtraHosts []string
	// HTTPClient is copied, not changed; nil means a new http.Client. Its
	// Transport (nil is http.DefaultTransport) carries each attempt.
	HTTPClient *http.Client
	// Policy bounds and spaces the attempts; the zero value is the default.
	Policy Policy
}

// New makes a go-github client for the REST API at opts.APIURL whose every
// request goes through the retrying, deadline-bound Transport.
func New(opts Options) (*github.Client, error) {
	apiURL := opts.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("GitHub API URL %q is not an http(s) URL; set GITHUB_API_URL like https://api.github.com or https://ghe.example.com/api/v3", apiURL)
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hosts := map[string]bool{u.Host: true}
	for _, h := range opts.ExtraHosts {
		hosts[h] = true
	}
	hc.Transport = NewTransport(&tokenTransport{base: base, token: opts.Token, hosts: hosts}, opts.Policy)
	c := github.NewClient(&hc)
	if u.Host == "api.github.com" {
		return c, nil
	}
	upload := *u
	upload.Path = strings.TrimSuffix(strings.TrimSuffix(upload.Path, "/"), "/api/v3") + "/"
	c, err = c.WithEnterpriseURLs(u.String(), upload.String())
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL %q: %w", apiURL, err)
	}
	return c, nil
}

// GraphQLURL is the GraphQL endpoint that goes with a REST API URL:
// https://api.github.com/graphql for GitHub.com, https://HOST/api/graphql for
// GitHub Enterprise Server; "" when apiURL does not parse.
func GraphQLURL(apiURL string) string {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Host == "api.github.com" {
		return u.Scheme + "://" + u.Host + "/graphql"
	}
	return u.Scheme + "://" + u.Host + "/api/graphql"
}

// tokenTransport adds the token to requests for the hosts it belongs to.
type tokenTransport struct {
	base  http.RoundTripper
	token string
	hosts map[string]bool
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token != "" && t.hosts[req.URL.Host] {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.base.RoundTrip(req)
}
