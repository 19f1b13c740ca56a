package publish

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review/internal/fakeresults"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

func TestBackendIDs(t *testing.T) {
	for _, tc := range []struct {
		name, scp, run, job, err string
	}{
		{name: "the Results scope among others", scp: "Actions.GenericRead:x Actions.Results:run-1:job-2 Actions.UploadArtifacts:y", run: "run-1", job: "job-2"},
		{name: "no Results scope", scp: "Actions.GenericRead:x", err: "no Actions.Results scope"},
		{name: "a Results scope missing the job", scp: "Actions.Results:run-1", err: "no Actions.Results scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := fakeresults.RuntimeToken(t, tc.scp)
			run, job, err := backendIDs(token)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				if err != nil && strings.Contains(err.Error(), token) {
					t.Errorf("error holds the token")
				}
				return
			}
			if err != nil || run != tc.run || job != tc.job {
				t.Errorf("backendIDs = %q, %q, %v; want %q, %q", run, job, err, tc.run, tc.job)
			}
		})
	}
	if _, _, err := backendIDs("not-a-jwt"); err == nil {
		t.Error("a token that is not a JWT was accepted")
	}
}

func TestArtifactName(t *testing.T) {
	for _, tc := range []struct {
		number, round int
		attempt, want string
	}{
		{2, 1, "1", "deep-review-pr-2-round-1-attempt-1"},
		{2, 3, "", "deep-review-pr-2-round-3"},
		{0, 1, "2", "deep-review-round-1-attempt-2"},
		{7, 1, `a:b/c\d"e<f>g|h*i?j` + "\r\n", "deep-review-pr-7-round-1-attempt-a-b-c-d-e-f-g-h-i-j--"},
	} {
		if got := ArtifactName(tc.number, tc.round, tc.attempt); got != tc.want {
			t.Errorf("ArtifactName(%d, %d, %q) = %q, want %q", tc.number, tc.round, tc.attempt, got, tc.want)
		}
	}
}

func TestJSONInt64AcceptsStringsAndNumbers(t *testing.T) {
	for raw, want := range map[string]int64{`"9007199254740993"`: 9007199254740993, `42`: 42} {
		got, err := jsonInt64(json.RawMessage(raw))
		if err != nil || got != want {
			t.Errorf("jsonInt64(%s) = %d, %v; want %d", raw, got, err, want)
		}
	}
	for _, raw := range []string{``, `"x"`, `null`, `1.5`} {
		if _, err := jsonInt64(json.RawMessage(raw)); err == nil {
			t.Errorf("jsonInt64(%s) succeeded", raw)
		}
	}
}

func TestFoldFieldsReadsBothCases(t *testing.T) {
	for _, body := range []string{`{"ok":true,"signed_upload_url":"u"}`, `{"ok":true,"signedUploadUrl":"u"}`} {
		f, err := foldFields([]byte(body))
		if err != nil || !jsonBool(f["ok"]) || jsonString(f["signeduploadurl"]) != "u" {
			t.Errorf("foldFields(%s) = %v, %v", body, f, err)
		}
	}
}
