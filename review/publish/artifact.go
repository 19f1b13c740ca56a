package publish

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// defaultBlockSize is the bytes per Put Block.
const defaultBlockSize = 4 << 20

// artifactService is the twirp service of the Actions results API.
const artifactService = "/twirp/github.actions.results.api.v1.ArtifactService/"

// errNoRuntime marks a run without the Actions runtime (local, GHES).
var errNoRuntime = errors.New("no Actions runtime")

// publishArtifact uploads the out dir and records the outcome.
func (r *run) publishArtifact(ctx context.Context) {
	if !r.in.Options.Artifact {
		r.skip("artifact: the artifact input is false")
		return
	}
	if r.getenv("ACTIONS_RUNTIME_TOKEN") == "" || r.getenv("ACTIONS_RESULTS_URL") == "" {
		why := fmt.Sprintf("ACTIONS_RUNTIME_TOKEN or ACTIONS_RESULTS_URL is not set (a local run, or GitHub Enterprise Server, which deep-review cannot upload to); the report is in %s: upload it with actions/upload-artifact (path: %s)", r.in.OutDir, r.in.OutDir)
		r.p.Action.Noticef("artifact upload skipped: %s", why)
		r.skip("artifact: " + why)
		return
	}
	r.attempted++
	name := ArtifactName(r.in.Number, r.in.Report.Round, r.runAttempt())
	url, err := r.uploadArtifact(ctx, name)
	if err != nil {
		r.problem(fmt.Sprintf("upload artifact %s: %v; the report is still in %s", name, err, r.in.OutDir))
		return
	}
	r.res.ArtifactURL = url
	if url == "" {
		r.done("Artifact: " + name + " (uploaded; GITHUB_RUN_ID is not set, so there is no link)")
		return
	}
	r.done("Artifact: [" + name + "](" + url + ")")
}

func (r *run) runAttempt() string {
	if r.in.RunAttempt != "" {
		return r.in.RunAttempt
	}
	return r.getenv("GITHUB_RUN_ATTEMPT")
}

// ArtifactName is the artifact's name for a pull request, round and run
// attempt: deep-review-pr-N-round-R-attempt-A, so that a re-run never
// collides with an earlier upload. A zero number or an empty attempt leaves
// its part out; characters artifact names forbid become '-'.
func ArtifactName(number, round int, attempt string) string {
	name := "deep-review"
	if number > 0 {
		name += "-pr-" + strconv.Itoa(number)
	}
	name += "-round-" + strconv.Itoa(round)
	if attempt != "" {
		name += "-attempt-" + attempt
	}
	return strings.Map(func(c rune) rune {
		if strings.ContainsRune("\":<>|*?\r\n\\/", c) {
			return '-'
		}
		return c
	}, name)
}

// uploadArtifact zips the out dir and uploads it through the results
// service: CreateArtifact, Put Block per chunk and Put Block List to the
// signed URL, FinalizeArtifact. It returns the artifact's web URL.
func (r *run) uploadArtifact(ctx context.Context, name string) (string, error) {
	token := r.getenv("ACTIONS_RUNTIME_TOKEN")
	runID, jobID, err := backendIDs(token)
	if err != nil {
		return "", err
	}
	origin, err := originOf(r.getenv("ACTIONS_RESULTS_URL"))
	if err != nil {
		return "", err
	}
	data, err := zipDir(r.in.OutDir)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	r.logf("uploading artifact %s (%d bytes)", name, len(data))

	var created struct {
		OK        bool
		SignedURL string
	}
	err = r.twirp(ctx, origin, token, "CreateArtifact", map[string]any{
		"workflow_run_backend_id":     runID,
		"workflow_job_run_backend_id": jobID,
		"name":                        name,
		"version":                     4,
	}, func(f map[string]json.RawMessage) error {
		created.OK = jsonBool(f["ok"])
		created.SignedURL = jsonString(f["signeduploadurl"])
		return nil
	})
	if err != nil {
		return "", err
	}
	if !created.OK || created.SignedURL == "" {
		return "", errors.New("CreateArtifact replied without ok and a signed upload URL")
	}
	signed := created.SignedURL
	r.p.Action.AddMask(signed)
	if u, err := url.Parse(signed); err == nil {
		if sig := u.Query().Get("sig"); sig != "" {
			r.p.Action.AddMask(sig)
		}
	}
	if err := r.putBlocks(ctx, signed, data); err != nil {
		return "", err
	}

	var artifactID int64
	err = r.twirp(ctx, origin, token, "FinalizeArtifact", map[string]any{
		"workflow_run_backend_id":     runID,
		"workflow_job_run_backend_id": jobID,
		"name":                        name,
		"size":                        strconv.Itoa(len(data)),
		"hash":                        "sha256:" + hex.EncodeToString(sum[:]),
	}, func(f map[string]json.RawMessage) error {
		if !jsonBool(f["ok"]) {
			return errors.New("FinalizeArtifact replied without ok")
		}
		id, err := jsonInt64(f["artifactid"])
		if err != nil {
			return fmt.Errorf("FinalizeArtifact artifact id: %w", err)
		}
		artifactID = id
		return nil
	})
	if err != nil {
		return "", err
	}
	r.logf("uploaded artifact %s (id %d)", name, artifactID)

	server := r.serverURL()
	repo := r.getenv("GITHUB_REPOSITORY")
	if repo == "" && r.in.Owner != "" {
		repo = r.in.Owner + "/" + r.in.Repo
	}
	runNumber := r.getenv("GITHUB_RUN_ID")
	if repo == "" || runNumber == "" {
		return "", nil
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s/artifacts/%d", server, repo, runNumber, artifactID), nil
}

// backendIDs reads the run and job backend ids from the runtime token's
// scp claim ("Actions.Results:<runBackendId>:<jobRunBackendId>"). The token
// is not verified: the results service does that.
func backendIDs(token string) (run, job string, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", errors.New("ACTIONS_RUNTIME_TOKEN is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", "", errors.New("ACTIONS_RUNTIME_TOKEN payload is not base64url")
	}
	var claims struct {
		Scp string `json:"scp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", "", errors.New("ACTIONS_RUNTIME_TOKEN payload is not JSON")
	}
	for _, s := range strings.Fields(claims.Scp) {
		p := strings.Split(s, ":")
		if len(p) == 3 && p[0] == "Actions.Results" && p[1] != "" && p[2] != "" {
			return p[1], p[2], nil
		}
	}
	return "", "", errors.New("ACTIONS_RUNTIME_TOKEN has no Actions.Results scope: is this an Actions runner with artifacts v4?")
}

// originOf is the scheme and host of ACTIONS_RESULTS_URL.
func originOf(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("ACTIONS_RESULTS_URL %q is not an absolute URL", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// zipDir zips the regular files under dir, with slash-separated paths
// relative to dir, in lexical order. Symlinks and other special files are
// left out.
func zipDir(dir string) ([]byte, error) {
	if dir == "" {
		return nil, errors.New("the out dir is empty: set out-dir")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		h.Method = zip.Deflate
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("zip out dir %s: %w", dir, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("out dir %s holds no files", dir)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip out dir %s: %w", dir, err)
	}
	return buf.Bytes(), nil
}

// twirp calls one method of the artifact service with a JSON body, retrying
// 429, 5xx and transport errors with backoff, and hands the reply's fields
// to decode with keys folded (lower case, no underscores), so snake_case and
// camelCase replies read the same.
func (r *run) twirp(ctx context.Context, origin, token, method string, req any, decode func(map[string]json.RawMessage) error) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for attempt := 1; ; attempt++ {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, origin+artifactService+method, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Authorization", "Bearer "+token)
		status, reply, err := r.do(hreq)
		switch {
		case err == nil && status/100 == 2:
			fields, err := foldFields(reply)
			if err != nil {
				return fmt.Errorf("%s reply: %w", method, err)
			}
			return decode(fields)
		case err == nil && !retryable(status):
			return fmt.Errorf("%s: HTTP %d%s", method, status, twirpMessage(reply))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
		why := fmt.Sprintf("HTTP %d%s", status, twirpMessage(reply))
		if err != nil {
			why = err.Error()
		}
		if attempt == maxAttempts {
			return fmt.Errorf("%s: gave up after %d tries: %s", method, attempt, why)
		}
		r.logf("%s: %s; retrying in %v", method, why, backoff(attempt))
		if err := r.sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
	}
}

// putBlocks uploads data to the signed blob URL as blocks, then commits
// them with Put Block List. No Authorization header goes to the blob store:
// the URL carries its signature. Errors never hold the URL.
func (r *run) putBlocks(ctx context.Context, signed string, data []byte) error {
	size := r.p.blockSize
	if size <= 0 {
		size = defaultBlockSize
	}
	sep := "?"
	if strings.Contains(signed, "?") {
		sep = "&"
	}
	var ids []string
	for off, i := 0, 0; off < len(data); off, i = off+size, i+1 {
		chunk := data[off:min(off+size, len(data))]
		id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "block-%08d", i))
		ids = append(ids, id)
		target := signed + sep + "comp=block&blockid=" + url.QueryEscape(id)
		if err := r.putBlob(ctx, fmt.Sprintf("put block %d", i), target, chunk, nil); err != nil {
			return err
		}
	}
	list := struct {
		XMLName xml.Name `xml:"BlockList"`
		Latest  []string `xml:"Latest"`
	}{Latest: ids}
	x, err := xml.Marshal(list)
	if err != nil {
		return fmt.Errorf("put block list: %w", err)
	}
	x = append([]byte(xml.Header), x...)
	return r.putBlob(ctx, "put block list", signed+sep+"comp=blocklist", x, map[string]string{
		"Content-Type":           "application/xml",
		"x-ms-blob-content-type": "application/zip",
	})
}

// putBlob PUTs body to the signed target, retrying 429, 5xx and transport
// errors with backoff.
func (r *run) putBlob(ctx context.Context, what, target string, body []byte, headers map[string]string) error {
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: the signed upload URL does not parse", what)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		status, _, err := r.do(req)
		if err == nil && status/100 == 2 {
			return nil
		}
		if err == nil && !retryable(status) {
			return fmt.Errorf("%s: blob store replied HTTP %d", what, status)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		why := fmt.Sprintf("HTTP %d", status)
		if err != nil {
			why = err.Error()
		}
		if attempt == maxAttempts {
			return fmt.Errorf("%s: gave up after %d tries: %s", what, attempt, why)
		}
		r.logf("%s: %s; retrying in %v", what, why, backoff(attempt))
		if err := r.sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}

// do sends req and reads at most 1 MiB of the reply. A transport error is
// returned without the request URL, which may be signed.
func (r *run) do(req *http.Request) (int, []byte, error) {
	client := r.p.HTTP
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, errors.New(strings.ReplaceAll(err.Error(), req.URL.String(), "[signed URL]"))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read reply: %v", err)
	}
	return resp.StatusCode, data, nil
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// twirpMessage is ": code: msg" from a twirp error body, or "".
func twirpMessage(body []byte) string {
	var e struct {
		Code string `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Code == "" && e.Msg == "") {
		return ""
	}
	return ": " + strings.Trim(e.Code+": "+e.Msg, ": ")
}

// foldFields decodes a JSON object with its keys lower-cased and stripped
// of underscores.
func foldFields(data []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[strings.ToLower(strings.ReplaceAll(k, "_", ""))] = v
	}
	return out, nil
}

func jsonBool(raw json.RawMessage) bool {
	var b bool
	return json.Unmarshal(raw, &b) == nil && b
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// jsonInt64 reads an int64 sent as a number or, as protobuf JSON does, a
// string.
func jsonInt64(raw json.RawMessage) (int64, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" {
		return 0, errors.New("missing")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}
