// Package fakeresults is the one fake of the Actions results service the
// tests of review/publish and review/cli share: the twirp JSON of
// github.actions.results.api.v1.ArtifactService (CreateArtifact,
// FinalizeArtifact) and, under /blob, the Azure Put Block and Put Block List
// calls of the signed URL it hands out. It checks the runtime token, the
// backend ids the token's scp claim names, and at finalize that size and
// hash match the bytes uploaded. A request to any other route fails the
// test. Only tests import this package.
package fakeresults

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The backend ids of the runtime token, and the signature of the signed
// blob URL (a secret that must never reach a log).
const (
	RunBackendID = "b8e2c2a4-run"
	JobBackendID = "7f3d9c11-job"
	BlobSig      = "sv2023sig-Zm9vYmFyc2VjcmV0"
)

// Server is a fake results service. Set its knobs before the run and read
// its record after; the handlers hold Mu.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	// Mu guards the fields below while requests are served.
	Mu sync.Mutex
	// Token is the runtime token (ACTIONS_RUNTIME_TOKEN) it accepts.
	Token string
	// FailCreates is how many CreateArtifact calls get a 500 first.
	FailCreates int
	// Snake replies snake_case with numeric ids instead of camelCase with
	// string ids, as older services do.
	Snake bool
	// BlobFails are statuses for the next blob PUTs; 0 hangs up.
	BlobFails []int
	// Names are the artifact names created so far; a name is taken once.
	Names []string
	// Creates counts CreateArtifact calls, failed ones included.
	Creates int
	// Uploads are the committed blobs, in order.
	Uploads [][]byte
	// BlockPuts counts Put Block calls.
	BlockPuts int
	// BlobAuth are the Authorization headers the blob store saw.
	BlobAuth []string
	// Finalized are the artifact names finalized.
	Finalized []string

	blocks map[string][]byte
	nextID int64
}

// New starts a fake results service that lives as long as the test.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, blocks: map[string][]byte{}, nextID: 4241}
	s.Token = RuntimeToken(t, "Actions.GenericRead:00000000 Actions.Results:"+RunBackendID+":"+JobBackendID+" Actions.UploadArtifacts:x")
	const service = "/twirp/github.actions.results.api.v1.ArtifactService/"
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+service+"CreateArtifact", s.create)
	mux.HandleFunc("POST "+service+"FinalizeArtifact", s.finalize)
	mux.HandleFunc("PUT /blob/", s.blob)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("results service: unexpected request %s %s", r.Method, r.URL.Path)
		twirpError(w, http.StatusNotFound, "bad_route", "no such route")
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is ACTIONS_RESULTS_URL, with its trailing slash.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// LastUploadHolds reports whether the last upload holds name (a zip's
// entry names are stored in the clear).
func (s *Server) LastUploadHolds(name string) bool {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return len(s.Uploads) > 0 && strings.Contains(string(s.Uploads[len(s.Uploads)-1]), name)
}

// RuntimeToken is an unsigned JWT with the given scp claim.
func RuntimeToken(t testing.TB, scp string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"typ": "JWT", "alg": "RS256"}) + "." +
		enc(map[string]any{"scp": scp, "iss": "vstoken.actions.githubusercontent.com", "exp": 1893456000}) + ".c2lnbmF0dXJl"
}

func twirpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "msg": msg})
}

func reply(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) request(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		twirpError(w, http.StatusUnauthorized, "unauthenticated", "bad runtime token")
		return nil, false
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		twirpError(w, http.StatusBadRequest, "malformed", err.Error())
		return nil, false
	}
	if req["workflow_run_backend_id"] != RunBackendID || req["workflow_job_run_backend_id"] != JobBackendID {
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("backend ids %v %v", req["workflow_run_backend_id"], req["workflow_job_run_backend_id"]))
		return nil, false
	}
	return req, true
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	req, ok := s.request(w, r)
	if !ok {
		return
	}
	s.Creates++
	if s.FailCreates > 0 {
		s.FailCreates--
		twirpError(w, http.StatusInternalServerError, "internal", "transient failure")
		return
	}
	if v, _ := req["version"].(float64); v != 4 {
		twirpError(w, http.StatusBadRequest, "invalid_argument", "version must be 4")
		return
	}
	name, _ := req["name"].(string)
	for _, n := range s.Names {
		if n == name {
			twirpError(w, http.StatusConflict, "already_exists", "an artifact with this name already exists on the workflow run")
			return
		}
	}
	s.Names = append(s.Names, name)
	signed := fmt.Sprintf("%s/blob/actions-results/%s/%s.zip?sig=%s&se=2026-11-26T03%%3A00%%3A00Z&sp=cw&spr=https&sr=b&sv=2023-11-03", s.srv.URL, RunBackendID, url.PathEscape(name), BlobSig)
	if s.Snake {
		reply(w, map[string]any{"ok": true, "signed_upload_url": signed})
	} else {
		reply(w, map[string]any{"ok": true, "signedUploadUrl": signed})
	}
}

func (s *Server) blob(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.BlobAuth = append(s.BlobAuth, r.Header.Get("Authorization"))
	if len(s.BlobFails) > 0 {
		status := s.BlobFails[0]
		s.BlobFails = s.BlobFails[1:]
		if status == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				s.t.Error(err)
				return
			}
			conn.Close()
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>sig=%s</Message></Error>`, BlobSig)
		return
	}
	if r.URL.Query().Get("sig") != BlobSig {
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
		s.blocks[id] = data
		s.BlockPuts++
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
			b, ok := s.blocks[id]
			if !ok {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidBlockList</Code></Error>`)
				return
			}
			blob = append(blob, b...)
		}
		s.Uploads = append(s.Uploads, blob)
		s.blocks = map[string][]byte{}
		w.WriteHeader(http.StatusCreated)
	default:
		s.t.Errorf("blob PUT without comp=block or comp=blocklist: %s", r.URL.RawQuery)
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (s *Server) finalize(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	req, ok := s.request(w, r)
	if !ok {
		return
	}
	if len(s.Uploads) == 0 {
		twirpError(w, http.StatusBadRequest, "failed_precondition", "nothing uploaded")
		return
	}
	blob := s.Uploads[len(s.Uploads)-1]
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
	s.Finalized = append(s.Finalized, name)
	s.nextID++
	if s.Snake {
		reply(w, map[string]any{"ok": true, "artifact_id": s.nextID})
	} else {
		reply(w, map[string]any{"ok": true, "artifactId": strconv.FormatInt(s.nextID, 10)})
	}
}
