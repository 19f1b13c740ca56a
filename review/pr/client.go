package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// DefaultAPIURL is GitHub.com's REST API.
const DefaultAPIURL = "https://api.github.com"

// NewClient makes a go-github client for the REST API at apiURL ("" is
// GitHub.com; any other host is treated as GitHub Enterprise Server, whose API
// lives under /api/v3). The token, when not empty, is sent only to the API's
// own host and to extraHosts (e.g. the GraphQL endpoint's), never to a host a
// redirect leads to. httpClient is copied, not changed; nil means a new
// http.Client.
func NewClient(httpClient *http.Client, apiURL, token string, extraHosts ...string) (*github.Client, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("GitHub API URL %q is not an http(s) URL; set GITHUB_API_URL like https://api.github.com or https://ghe.example.com/api/v3", apiURL)
	}
	var hc http.Client
	if httpClient != nil {
		hc = *httpClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hosts := map[string]bool{u.Host: true}
	for _, h := range extraHosts {
		hosts[h] = true
	}
	hc.Transport = &tokenTransport{base: base, token: token, hosts: hosts}
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
// GitHub Enterprise Server.
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

// maxRetryWait is the longest rate-limit wait a gather sits out; beyond it
// the call fails.
const maxRetryWait = 60 * time.Second

// maxRetries bounds the retries of one call.
const maxRetries = 3

// retryWait reports how long to wait before retrying attempt (0-based)
// after err: GitHub's secondary rate limit (403 with Retry-After) and 429
// answers carry the wait; a 502, 503 or 504 (a GitHub hiccup, not an answer)
// is retried after 1, 2, 4 s.
func retryWait(err error, attempt int) (time.Duration, bool) {
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return max(*abuse.RetryAfter, time.Second), true
		}
		return time.Minute, true
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests {
		if s, err := strconv.Atoi(er.Response.Header.Get("Retry-After")); err == nil && s >= 0 {
			return max(time.Duration(s)*time.Second, time.Second), true
		}
		return time.Minute, true
	}
	switch statusOf(err) {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return time.Second << attempt, true
	}
	return 0, false
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// statusOf is the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}
