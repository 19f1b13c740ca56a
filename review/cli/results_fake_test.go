package cli

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
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeResults is the Actions results service: the twirp ArtifactService
// calls and, under /blob, a signed URL taking Put Block and Put Block List.
// It checks the runtime token and, at finalize, that size and hash match
// the bytes uploaded.
type fakeResults struct {
	t         *testing.T
	srv       *httptest.Server
	token     string
	mu        sync.Mutex
	blocks    map[string][]byte
	uploads   [][]byte
	finalized []string
	failNext  int
}

const (
	fakeRunBackend = "run-backend-1"
	fakeJobBackend = "job-backend-2"
)

func newFakeResults(t *testing.T) *fakeResults {
	t.Helper()
	f := &fakeResults{t: t, blocks: map[string][]byte{}}
	claims, _ := json.Marshal(map[string]any{"scp": "Actions.Results:" + fakeRunBackend + ":" + fakeJobBackend})
	f.token = "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact", f.create)
	mux.HandleFunc("POST /twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact", f.finalize)
	mux.HandleFunc("PUT /blob/", f.blob)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeResults) twirpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "msg": msg})
}

func (f *fakeResults) decode(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.twirpError(w, http.StatusUnauthorized, "unauthenticated", "bad runtime token")
		return nil, false
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.twirpError(w, http.StatusBadRequest, "malformed", err.Error())
		return nil, false
	}
	if req["workflow_run_backend_id"] != fakeRunBackend || req["workflow_job_run_backend_id"] != fakeJobBackend {
		f.twirpError(w, http.StatusBadRequest, "invalid_argument", "wrong backend ids")
		return nil, false
	}
	return req, true
}

func (f *fakeResults) create(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext > 0 {
		f.failNext--
		f.twirpError(w, http.StatusInternalServerError, "internal", "transient failure")
		return
	}
	req, ok := f.decode(w, r)
	if !ok {
		return
	}
	name, _ := req["name"].(string)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "signedUploadUrl": f.srv.URL + "/blob/" + name + ".zip?sig=secretsig&sv=2023-11-03"})
}

func (f *fakeResults) blob(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "" || r.URL.Query().Get("sig") != "secretsig" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	data, _ := io.ReadAll(r.Body)
	switch r.URL.Query().Get("comp") {
	case "block":
		f.blocks[r.URL.Query().Get("blockid")] = data
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
			blob = append(blob, f.blocks[id]...)
		}
		f.uploads = append(f.uploads, blob)
		f.blocks = map[string][]byte{}
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (f *fakeResults) finalize(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, ok := f.decode(w, r)
	if !ok {
		return
	}
	if len(f.uploads) == 0 {
		f.twirpError(w, http.StatusBadRequest, "failed_precondition", "nothing uploaded")
		return
	}
	blob := f.uploads[len(f.uploads)-1]
	sum := sha256.Sum256(blob)
	if req["size"] != strconv.Itoa(len(blob)) || req["hash"] != "sha256:"+hex.EncodeToString(sum[:]) {
		f.twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("size %v hash %v do not match the upload", req["size"], req["hash"]))
		return
	}
	f.finalized = append(f.finalized, req["name"].(string))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "artifactId": strconv.Itoa(9000 + len(f.finalized))})
}

// hasZipOf reports whether the last upload is a zip holding name.
func (f *fakeResults) lastUploadHolds(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.uploads) == 0 {
		return false
	}
	return strings.Contains(string(f.uploads[len(f.uploads)-1]), name)
}
