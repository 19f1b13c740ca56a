package publish

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/deepreview/deep-review/review/ghclient"
)

// The fake GitHub speaks the REST API for issue comments under /api/v3, as
// go-github's own tests mount it, with the comments held in memory.

const (
	ghToken  = "ghs_faketoken"
	botLogin = "github-actions[bot]"
)

// ghComment is one stored comment.
type ghComment struct {
	ID      int64
	Body    string
	Login   string
	Created time.Time
}

// fault is a canned error reply, used once.
type fault struct {
	status int
	header map[string]string
	body   string
}

// secondaryRateLimit is GitHub's 403 for a secondary rate limit. Its
// Retry-After is 0 because go-github refuses further requests locally until
// the Retry-After it saw has passed on the wall clock, and the tests do not
// wait; the 429 fault tests that a Retry-After value is honoured.
var secondaryRateLimit = fault{
	status: http.StatusForbidden,
	header: map[string]string{"Retry-After": "0"},
	body:   `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`,
}

var badGateway = fault{status: http.StatusBadGateway, body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}

var tooManyRequests = fault{
	status: http.StatusTooManyRequests,
	header: map[string]string{"Retry-After": "7"},
	body:   `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","status":"429"}`,
}

var notAccessible = fault{
	status: http.StatusForbidden,
	body:   `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment","status":"403"}`,
}

type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	comments []ghComment
	nextID   int64
	clock    time.Time
	faults   map[string][]fault // by method, used in order
	calls    []string           // "METHOD /path"
	tooLong  int                // 422 replies sent

	inflight, maxInflight atomic.Int32
	template              map[string]any
	// pulls serves pull request reviews and review threads (fakes_review_test.go).
	pulls *fakePulls
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	data, err := os.ReadFile("testdata/issues-create-comment.json")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeGitHub{
		t:        t,
		nextID:   1000,
		clock:    time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
		faults:   map[string][]fault{},
		template: map[string]any{},
	}
	if err := json.Unmarshal(data, &f.template); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v3/", f.serve)
	mux.HandleFunc("/api/graphql", f.serveGraphQL)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside /api/v3: %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client is a go-github client for the fake, authenticated with ghToken.
func (f *fakeGitHub) client(t *testing.T, p ghclient.Policy) *github.Client {
	t.Helper()
	c, err := ghclient.New(ghclient.Options{APIURL: f.srv.URL + "/api/v3/", Token: ghToken, HTTPClient: f.srv.Client(), Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seed adds a comment written before the run.
func (f *fakeGitHub) seed(login, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.add(login, body).ID
}

func (f *fakeGitHub) add(login, body string) ghComment {
	f.nextID++
	f.clock = f.clock.Add(time.Minute)
	c := ghComment{ID: f.nextID, Body: body, Login: login, Created: f.clock}
	f.comments = append(f.comments, c)
	return c
}

func (f *fakeGitHub) fail(method string, fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = append(f.faults[method], fs...)
}

func (f *fakeGitHub) snapshot() []ghComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ghComment(nil), f.comments...)
}

func (f *fakeGitHub) callCount(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeGitHub) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Error(err)
	}
}

func (f *fakeGitHub) render(owner, repo string, number int, c ghComment) map[string]any {
	m := maps.Clone(f.template)
	user := maps.Clone(f.template["user"].(map[string]any))
	user["login"] = c.Login
	user["type"] = "User"
	if strings.HasSuffix(c.Login, "[bot]") {
		user["type"] = "Bot"
	}
	m["user"] = user
	m["id"] = c.ID
	m["body"] = c.Body
	m["url"] = fmt.Sprintf("%s/api/v3/repos/%s/%s/issues/comments/%d", f.srv.URL, owner, repo, c.ID)
	m["html_url"] = fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", owner, repo, number, c.ID)
	m["issue_url"] = fmt.Sprintf("%s/api/v3/repos/%s/%s/issues/%d", f.srv.URL, owner, repo, number)
	m["created_at"] = c.Created.Format(time.RFC3339)
	m["updated_at"] = c.Created.Format(time.RFC3339)
	return m
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if got := r.Header.Get("Authorization"); got != "Bearer "+ghToken {
		f.json(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	if q := f.faults[r.Method]; len(q) > 0 {
		ft := q[0]
		f.faults[r.Method] = q[1:]
		for k, v := range ft.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(ft.status)
		io.WriteString(w, ft.body)
		return
	}

	// /api/v3/repos/{owner}/{repo}/issues/{number}/comments
	// /api/v3/repos/{owner}/{repo}/issues/comments/{id}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v3/"), "/")
	if len(parts) >= 5 && parts[0] == "repos" && parts[3] == "pulls" {
		f.servePulls(w, r, parts)
		return
	}
	if len(parts) != 6 || parts[0] != "repos" || parts[3] != "issues" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		f.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	owner, repo := parts[1], parts[2]
	if parts[5] == "comments" {
		number, err := strconv.Atoi(parts[4])
		if err != nil {
			f.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		switch r.Method {
		case http.MethodGet:
			f.list(w, r, owner, repo, number)
		case http.MethodPost:
			body, ok := f.body(w, r)
			if !ok {
				return
			}
			c := f.add(botLogin, body)
			f.json(w, http.StatusCreated, f.render(owner, repo, number, c))
		default:
			f.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
		return
	}
	if parts[4] != "comments" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		f.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	id, _ := strconv.ParseInt(parts[5], 10, 64)
	i := -1
	for j, c := range f.comments {
		if c.ID == id {
			i = j
		}
	}
	if i < 0 {
		f.json(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/issues/comments"})
		return
	}
	if f.comments[i].Login != botLogin {
		f.json(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
		return
	}
	switch r.Method {
	case http.MethodPatch:
		body, ok := f.body(w, r)
		if !ok {
			return
		}
		f.comments[i].Body = body
		// The number is not in the path; the html_url uses the one of the test PR.
		f.json(w, http.StatusOK, f.render(owner, repo, 2, f.comments[i]))
	case http.MethodDelete:
		f.comments = append(f.comments[:i], f.comments[i+1:]...)
		w.WriteHeader(http.StatusNoContent)
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// body reads {"body": ...} and replies 422 as GitHub does when it is over
// 65,536 characters.
func (f *fakeGitHub) body(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Body == nil {
		f.json(w, http.StatusUnprocessableEntity, map[string]any{"message": "Invalid request.\n\n\"body\" wasn't supplied.", "documentation_url": "https://docs.github.com/rest/issues/comments", "status": "422"})
		return "", false
	}
	if utf8.RuneCountInString(*req.Body) > 65536 {
		f.tooLong++
		f.json(w, http.StatusUnprocessableEntity, map[string]any{
			"message": "Validation Failed",
			"errors": []map[string]any{{
				"resource": "IssueComment",
				"code":     "custom",
				"field":    "body",
				"message":  "body is too long (maximum is 65536 characters)",
			}},
			"documentation_url": "https://docs.github.com/rest/issues/comments#update-an-issue-comment",
			"status":            "422",
		})
		return "", false
	}
	return *req.Body, true
}

// list serves one page of comments, oldest first, with a Link header.
func (f *fakeGitHub) list(w http.ResponseWriter, r *http.Request, owner, repo string, number int) {
	perPage, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max((len(f.comments)+perPage-1)/perPage, 1)
	var out []map[string]any
	for i := (page - 1) * perPage; i < min(page*perPage, len(f.comments)); i++ {
		out = append(out, f.render(owner, repo, number, f.comments[i]))
	}
	if out == nil {
		out = []map[string]any{}
	}
	link := func(p int, rel string) string {
		u := url.URL{Path: r.URL.Path, RawQuery: fmt.Sprintf("per_page=%d&page=%d", perPage, p)}
		return fmt.Sprintf("<%s%s>; rel=%q", f.srv.URL, u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	f.json(w, http.StatusOK, out)
}

// The fake results service speaks the twirp JSON of
// github.actions.results.api.v1.ArtifactService and, under /blob, the
// Azure Put Block and Put Block List calls of a signed URL.

const (
	runBackendID = "b8e2c2a4-run"
	jobBackendID = "7f3d9c11-job"
	blobSig      = "sv2023sig-Zm9vYmFyc2VjcmV0"
)

type fakeResults struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	token       string
	createFails int   // 500 replies before CreateArtifact succeeds
	snake       bool  // reply snake_case with numeric ids instead of camelCase with string ids
	blobFails   []int // statuses for the next blob PUTs; 0 hangs up without a reply
	names       []string
	blocks      map[string][]byte
	uploads     [][]byte // committed blobs, in order
	blockPuts   int
	blobAuth    []string // Authorization headers seen by the blob store
	finalized   []string // names finalized
	nextID      int64
}

func newFakeResults(t *testing.T) *fakeResults {
	f := &fakeResults{t: t, blocks: map[string][]byte{}, nextID: 4241}
	f.token = runtimeToken(t, "Actions.GenericRead:00000000 Actions.Results:"+runBackendID+":"+jobBackendID+" Actions.UploadArtifacts:x")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact", f.create)
	mux.HandleFunc("POST /twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact", f.finalize)
	mux.HandleFunc("PUT /blob/", f.blob)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected results request %s %s", r.Method, r.URL.Path)
		twirpError(w, http.StatusNotFound, "bad_route", "no such route")
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// runtimeToken is an unsigned JWT with the given scp claim.
func runtimeToken(t *testing.T, scp string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimRight(base64URL(b), "=")
	}
	return enc(map[string]string{"typ": "JWT", "alg": "RS256"}) + "." +
		enc(map[string]any{"scp": scp, "iss": "vstoken.actions.githubusercontent.com", "exp": 1893456000}) + ".c2lnbmF0dXJl"
}

func twirpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "msg": msg})
}

func (f *fakeResults) reply(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeResults) request(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		twirpError(w, http.StatusUnauthorized, "unauthenticated", "bad runtime token")
		return nil, false
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		twirpError(w, http.StatusBadRequest, "malformed", err.Error())
		return nil, false
	}
	if req["workflow_run_backend_id"] != runBackendID || req["workflow_job_run_backend_id"] != jobBackendID {
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("backend ids %v %v", req["workflow_run_backend_id"], req["workflow_job_run_backend_id"]))
		return nil, false
	}
	return req, true
}

func (f *fakeResults) create(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, ok := f.request(w, r)
	if !ok {
		return
	}
	if f.createFails > 0 {
		f.createFails--
		twirpError(w, http.StatusInternalServerError, "internal", "transient failure")
		return
	}
	if v, _ := req["version"].(float64); v != 4 {
		twirpError(w, http.StatusBadRequest, "invalid_argument", "version must be 4")
		return
	}
	name, _ := req["name"].(string)
	for _, n := range f.names {
		if n == name {
			twirpError(w, http.StatusConflict, "already_exists", "an artifact with this name already exists on the workflow run")
			return
		}
	}
	f.names = append(f.names, name)
	signed := fmt.Sprintf("%s/blob/actions-results/%s/%s.zip?sig=%s&se=2026-11-26T03%%3A00%%3A00Z&sp=cw&spr=https&sr=b&sv=2023-11-03", f.srv.URL, runBackendID, url.PathEscape(name), blobSig)
	if f.snake {
		f.reply(w, map[string]any{"ok": true, "signed_upload_url": signed})
	} else {
		f.reply(w, map[string]any{"ok": true, "signedUploadUrl": signed})
	}
}

func (f *fakeResults) blob(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blobAuth = append(f.blobAuth, r.Header.Get("Authorization"))
	if len(f.blobFails) > 0 {
		status := f.blobFails[0]
		f.blobFails = f.blobFails[1:]
		if status == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				f.t.Fatal(err)
			}
			conn.Close()
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>sig=%s</Message></Error>`, blobSig)
		return
	}
	if r.URL.Query().Get("sig") != blobSig {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code></Error>`)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch r.URL.Query().Get("comp") {
	case "block":
		id := r.URL.Query().Get("blockid")
		if id == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.blocks[id] = data
		f.blockPuts++
		w.WriteHeader(http.StatusCreated)
	case "blocklist":
		var list struct {
			Latest []string `xml:"Latest"`
		}
		if err := xml.Unmarshal(data, &list); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var blob []byte
		for _, id := range list.Latest {
			b, ok := f.blocks[id]
			if !ok {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidBlockList</Code></Error>`)
				return
			}
			blob = append(blob, b...)
		}
		f.uploads = append(f.uploads, blob)
		f.blocks = map[string][]byte{}
		w.WriteHeader(http.StatusCreated)
	default:
		f.t.Errorf("blob PUT without comp=block or comp=blocklist: %s", r.URL.RawQuery)
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (f *fakeResults) finalize(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, ok := f.request(w, r)
	if !ok {
		return
	}
	if len(f.uploads) == 0 {
		twirpError(w, http.StatusBadRequest, "failed_precondition", "nothing uploaded")
		return
	}
	blob := f.uploads[len(f.uploads)-1]
	sum := sha256.Sum256(blob)
	if req["size"] != strconv.Itoa(len(blob)) {
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("size %v, uploaded %d", req["size"], len(blob)))
		return
	}
	if req["hash"] != "sha256:"+hex.EncodeToString(sum[:]) {
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("hash %v does not match the upload", req["hash"]))
		return
	}
	name, _ := req["name"].(string)
	f.finalized = append(f.finalized, name)
	f.nextID++
	if f.snake {
		f.reply(w, map[string]any{"ok": true, "artifact_id": f.nextID})
	} else {
		f.reply(w, map[string]any{"ok": true, "artifactId": strconv.FormatInt(f.nextID, 10)})
	}
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
