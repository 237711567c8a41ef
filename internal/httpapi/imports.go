package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/imports"
	"github.com/regulars/regulars/internal/jobs"
)

// UploadTTL is how long an import's upload URL works; a new one is signed
// at every GET of the job while it waits for its file.
const UploadTTL = time.Hour

type importRequestJSON struct {
	Format         imports.Format     `json:"format"`
	OpeningBalance bool               `json:"opening_balance"`
	OnExisting     imports.OnExisting `json:"on_existing"`
}

// createImport records an import job that waits for its file, and answers
// it with the URL the file is uploaded to.
func (s *Server) createImport(ctx context.Context, r *request) (response, error) {
	var in importRequestJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	p := imports.Params{Format: in.Format, OpeningBalance: in.OpeningBalance, OnExisting: in.OnExisting, Country: r.merchant.Country}
	if err := p.Validate(); err != nil {
		return response{}, err
	}
	if err := s.jobsConfigured(); err != nil {
		return response{}, err
	}
	j, err := jobs.New(r.merchant.ID, jobs.CustomerImport, p, r.actor(), r.now)
	if err != nil {
		return response{}, err
	}
	j.Result.Object = imports.UploadKey(j.MerchantID, j.ID, p.Format)
	if j, err = jobs.Enqueue(ctx, s.store, s.jobQueue, j); err != nil {
		return response{}, err
	}
	return s.jobResponse(ctx, http.StatusCreated, j)
}

// uploadLink signs the PUT of an import's file.
func (s *Server) uploadLink(ctx context.Context, j jobs.Job) (*linkJSON, error) {
	var p imports.Params
	if err := json.Unmarshal(j.Params, &p); err != nil {
		return nil, err
	}
	url, exp, err := s.files.PresignPut(ctx, j.Result.Object, p.ContentType(), UploadTTL)
	if err != nil {
		return nil, err
	}
	return &linkJSON{URL: url, Method: http.MethodPut, ExpiresAt: exp}, nil
}

// startImport queues an import whose file has been uploaded. Starting an
// import that has started answers its current state.
func (s *Server) startImport(ctx context.Context, r *request) (response, error) {
	id := r.path["jobId"]
	if !ids.Valid(id) {
		return response{}, apperr.New(apperr.NotFound, "import not found")
	}
	if len(r.body) > 0 {
		var none struct{}
		if err := decodeJSON(r.body, r.header("Content-Type"), &none); err != nil {
			return response{}, err
		}
	}
	if err := s.jobsConfigured(); err != nil {
		return response{}, err
	}
	j, err := s.store.Job(ctx, r.merchant.ID, id)
	if err != nil {
		return response{}, err
	}
	if j.Kind != jobs.CustomerImport {
		return response{}, apperr.New(apperr.NotFound, "import not found")
	}
	if j.State == jobs.Queued {
		// Started before, perhaps by a request that died between saving the
		// job and queueing it: queue it again (a duplicate message of a job
		// that runs or ran changes nothing).
		if err := jobs.Send(ctx, s.jobQueue, j); err != nil {
			return response{}, err
		}
	}
	if j.State != jobs.AwaitingUpload {
		return s.jobResponse(ctx, http.StatusAccepted, j)
	}
	var p imports.Params
	if err := json.Unmarshal(j.Params, &p); err != nil {
		return response{}, err
	}
	size, err := s.files.Size(ctx, j.Result.Object)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		return response{}, apperr.New(apperr.Conflict, "no file has been uploaded yet: PUT the file to the job's upload URL, then start it")
	case err != nil:
		return response{}, err
	case size == 0:
		return response{}, apperr.New(apperr.Unprocessable, "the uploaded file is empty")
	case size > p.MaxBytes():
		return response{}, apperr.New(apperr.Unprocessable, "the uploaded file is %d bytes; a %s import reads at most %d", size, p.Format, p.MaxBytes())
	}
	j.State, j.UpdatedAt = jobs.Queued, r.now.UTC()
	saved, err := s.store.SaveJob(ctx, j)
	if apperr.CodeOf(err) == apperr.Conflict { // started concurrently: answer what it is now
		if j, err = s.store.Job(ctx, r.merchant.ID, id); err != nil {
			return response{}, err
		}
		return s.jobResponse(ctx, http.StatusAccepted, j)
	}
	if err != nil {
		return response{}, err
	}
	if err := jobs.Send(ctx, s.jobQueue, saved); err != nil {
		return response{}, err
	}
	s.log.InfoContext(ctx, "import started", "merchant", saved.MerchantID, "job", saved.ID, "format", p.Format, "bytes", size)
	return s.jobResponse(ctx, http.StatusAccepted, saved)
}
