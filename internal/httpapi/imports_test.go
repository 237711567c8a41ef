package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/regulars/regulars/infra/localstack"
)

type importJob struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	State    string `json:"state"`
	Progress struct {
		Processed int `json:"processed"`
		Written   int `json:"written"`
		Rejected  int `json:"rejected"`
	} `json:"progress"`
	Error  *string `json:"error"`
	Upload *struct {
		URL    string `json:"url"`
		Method string `json:"method"`
	} `json:"upload"`
	Report *struct {
		URL    string `json:"url"`
		Method string `json:"method"`
	} `json:"report"`
	IgnoredColumns []string `json:"ignored_columns"`
}

// uploadImport PUTs a file to an import's presigned upload URL with plain
// net/http, as a merchant's browser does.
func (e *env) uploadImport(id, contentType string, file []byte) {
	e.t.Helper()
	var j importJob
	e.must(http.StatusOK, "GET", "/v1/jobs/"+id, e.key, nil).decode(e.t, &j)
	if j.Upload == nil || j.Upload.Method != http.MethodPut {
		e.t.Fatalf("import %s has no upload link: %+v", id, j)
	}
	localstack.PutPresigned(e.t, j.Upload.URL, contentType, file)
}

// TestImportAPI: create an import, upload its file through the presigned
// URL, start it, let JobsFunction run it, download the report.
func TestImportAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var j importJob
	r := e.must(http.StatusCreated, "POST", "/v1/imports", e.key, map[string]any{"format": "csv", "opening_balance": true},
		header("Idempotency-Key", "imp-1"))
	r.decode(t, &j)
	if j.Kind != "customer_import" || j.State != "awaiting_upload" || j.Upload == nil || r.header.Get("Location") != "/v1/jobs/"+j.ID {
		t.Fatalf("created %+v", j)
	}
	// The same Idempotency-Key answers the same job.
	var replay importJob
	e.must(http.StatusCreated, "POST", "/v1/imports", e.key, map[string]any{"format": "csv", "opening_balance": true},
		header("Idempotency-Key", "imp-1")).decode(t, &replay)
	if replay.ID != j.ID {
		t.Fatalf("replayed %s, want %s", replay.ID, j.ID)
	}
	start := "/v1/imports/" + j.ID + "/start"
	if r := e.must(http.StatusConflict, "POST", start, e.key, nil); !strings.Contains(r.problem.Detail, "no file has been uploaded") {
		t.Fatalf("start before the upload: %s", r.body)
	}
	e.uploadImport(j.ID, "text/csv", []byte("email,given_name,points_balance,colour\r\nana@example.com,Ana,40,rojo\r\nana@example.com,Otra,,\r\n"))
	j = importJob{}
	e.must(http.StatusAccepted, "POST", start, e.key, nil).decode(t, &j)
	if j.State != "queued" || j.Upload != nil {
		t.Fatalf("started %+v", j)
	}
	e.must(http.StatusAccepted, "POST", start, e.key, nil).decode(t, &j) // idempotent
	if j.State != "queued" {
		t.Fatalf("started again %+v", j)
	}
	e.drainFunction(t, "JobsFunction")
	e.must(http.StatusOK, "GET", "/v1/jobs/"+j.ID, e.key, nil).decode(t, &j)
	if j.State != "succeeded" || j.Report == nil || j.Progress.Processed != 2 || j.Progress.Written != 1 || j.Progress.Rejected != 1 ||
		len(j.IgnoredColumns) != 1 || j.IgnoredColumns[0] != "colour" {
		t.Fatalf("finished %+v", j)
	}
	resp, err := http.Get(j.Report.URL)
	if err != nil {
		t.Fatal(err)
	}
	report, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var p page
	e.must(http.StatusOK, "GET", "/v1/customers?q=ana@example.com", e.key, nil).decode(t, &p)
	if len(p.Data) != 1 {
		t.Fatalf("customers %+v", p.Data)
	}
	want := "row,outcome,customer_id,field,reason\r\n2,created," + p.Data[0].ID + ",,\r\n3,rejected,,/email,duplicate of row 2\r\n"
	if string(report) != want {
		t.Fatalf("report %q, want %q", report, want)
	}
	if sum, n := e.ledgerSum(t, p.Data[0].ID); sum != 40 || n != 1 {
		t.Fatalf("opening balance %d in %d entries", sum, n)
	}
	// Starting a finished import answers it as it is.
	e.must(http.StatusAccepted, "POST", start, e.key, nil).decode(t, &j)
	if j.State != "succeeded" || j.Report == nil {
		t.Fatalf("started once finished: %+v", j)
	}
	// An export is not an import.
	var ex importJob
	e.must(http.StatusAccepted, "POST", "/v1/exports", e.key, map[string]any{"type": "ledger"}).decode(t, &ex)
	e.must(http.StatusNotFound, "POST", "/v1/imports/"+ex.ID+"/start", e.key, nil)
	// An empty file is refused at the start.
	var empty importJob
	e.must(http.StatusCreated, "POST", "/v1/imports", e.key, map[string]any{"format": "xlsx"}).decode(t, &empty)
	e.uploadImport(empty.ID, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", nil)
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/imports/"+empty.ID+"/start", e.key, nil)
}
