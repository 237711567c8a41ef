// Package imports creates and updates a merchant's customers from an
// uploaded CSV or XLSX file, as a job: rows stream from the file in the
// bucket, each is validated, resolved against the customer base and written
// (or rejected), and a per-row report streams into a multipart upload. The
// file position and the report's parts are checkpointed together in the
// job's cursor, so a slice that runs out of time, or crashes, resumes with
// exactly the rows not yet reported; processing a row again gives the same
// outcome and writes nothing new (see RowClaim).
package imports

import (
	"fmt"

	"github.com/regulars/regulars/internal/apperr"
)

// Format is the uploaded file's format.
type Format string

// Formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// OnExisting says what a row does to the customer it finds.
type OnExisting string

// What a row does to an existing customer.
const (
	Update OnExisting = "update" // write the row's non-empty cells over the customer
	Skip   OnExisting = "skip"   // leave the customer as it is: the default
)

// Params is what an import asks for.
type Params struct {
	Format         Format     `json:"format"`
	OpeningBalance bool       `json:"opening_balance"` // open each created customer's balance with its points_balance
	OnExisting     OnExisting `json:"on_existing"`
	// Country is the merchant's when the import was created: the rows'
	// national phone numbers are read in it.
	Country string `json:"country,omitempty"`
}

// Validate checks the parameters and fills in the default on_existing,
// skip: a row that only matches a customer's identifier never overwrites
// what the merchant has (a name, a consent) unless the import asks to.
func (p *Params) Validate() error {
	var fe apperr.Fields
	switch p.Format {
	case CSV, XLSX:
	default:
		fe.Add("/format", "must be csv or xlsx")
	}
	switch p.OnExisting {
	case "":
		p.OnExisting = Skip
	case Update, Skip:
	default:
		fe.Add("/on_existing", "must be update or skip")
	}
	return fe.Err()
}

// Media types of the uploads.
const (
	CSVContentType  = "text/csv"
	XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// ContentType is the media type the upload URL is signed for.
func (p Params) ContentType() string {
	if p.Format == XLSX {
		return XLSXContentType
	}
	return CSVContentType
}

// MaxBytes is the largest file an import reads: an XLSX file is copied to
// the worker's temporary storage (512 MB on Lambda).
func (p Params) MaxBytes() int64 {
	if p.Format == XLSX {
		return 256 << 20
	}
	return 2 << 30
}

// UploadKey is where a job's file is uploaded.
func UploadKey(mid, job string, f Format) string {
	return fmt.Sprintf("imports/%s/%s/upload.%s", mid, job, f)
}

// ReportKey is where a job's report is written.
func ReportKey(mid, job string) string { return fmt.Sprintf("imports/%s/%s/report.csv", mid, job) }
