package dynamo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/jobs"
)

const jobSKPfx = "JOB#"

// jobTTL is how long a job's record is kept: the files it names expire from
// the bucket after 7 days (template.yaml), the record a little later.
const jobTTL = 30 * 24 * time.Hour

type jobItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Version   int64  `dynamodbav:"version"`
	ExpiresAt int64  `dynamodbav:"expires_at"` // TTL attribute, epoch seconds
	Job       []byte `dynamodbav:"job"`        // the job as JSON: its parameters and cursor are kind-specific
}

// Job reads one job of a merchant.
func (s *Store) Job(ctx context.Context, mid, id string) (jobs.Job, error) {
	var it jobItem
	if err := s.get(ctx, merchantPK(mid), jobSKPfx+id, &it); err != nil {
		if isNotFound(err) {
			return jobs.Job{}, apperr.New(apperr.NotFound, "job not found")
		}
		return jobs.Job{}, err
	}
	var j jobs.Job
	if err := json.Unmarshal(it.Job, &j); err != nil {
		return jobs.Job{}, err
	}
	j.Version = it.Version
	return j, nil
}

// SaveJob writes a job guarded by the version it was read at (0: new) and
// returns it with the next version; a concurrent save answers Conflict.
func (s *Store) SaveJob(ctx context.Context, j jobs.Job) (jobs.Job, error) {
	read := j.Version
	j.Version = read + 1
	body, err := json.Marshal(j)
	if err != nil {
		return jobs.Job{}, err
	}
	av, err := attributevalue.MarshalMap(jobItem{PK: merchantPK(j.MerchantID), SK: jobSKPfx + j.ID, Type: "job", Version: j.Version,
		ExpiresAt: j.CreatedAt.Add(jobTTL).Unix(), Job: body})
	if err != nil {
		return jobs.Job{}, err
	}
	w := versioned(s.table, av, read).Put
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: w.TableName, Item: w.Item, ConditionExpression: w.ConditionExpression,
		ExpressionAttributeValues: w.ExpressionAttributeValues}); err != nil {
		if conditionFailed(err) {
			return jobs.Job{}, apperr.New(apperr.Conflict, "job %s changed concurrently", j.ID)
		}
		return jobs.Job{}, err
	}
	return j, nil
}
