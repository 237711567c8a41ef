package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
)

// The program's configuration lives in the merchant's partition: small items
// read together.
const (
	skProgram      = "PROGRAM"
	programSKPfx   = "PROGRAM#V"
	badgeDefSKPfx  = "BADGEDEF#"
	rewardSKPfx    = "REWARD#"
	cardTplSKPfx   = "CARDTPL#"
	giftSchedSKPfx = "GIFT#"
)

func rewardSK(rid string) string { return rewardSKPfx + rid }

type programItem struct {
	PK        string          `dynamodbav:"PK"`
	SK        string          `dynamodbav:"SK"`
	Type      string          `dynamodbav:"type"`
	Version   int64           `dynamodbav:"version"`
	Program   loyalty.Program `dynamodbav:"program"`
	UpdatedAt time.Time       `dynamodbav:"updated_at"`
	UpdatedBy string          `dynamodbav:"updated_by"`
}

// Program returns the merchant's current program, or the default (version 0)
// when none was saved.
func (s *Store) Program(ctx context.Context, mid string) (loyalty.ProgramVersion, error) {
	var it programItem
	err := s.get(ctx, merchantPK(mid), skProgram, &it)
	if isNotFound(err) {
		return loyalty.ProgramVersion{Program: loyalty.DefaultProgram()}, nil
	}
	if err != nil {
		return loyalty.ProgramVersion{}, err
	}
	it.Program.Version = it.Version
	return loyalty.ProgramVersion{Program: it.Program, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy}, nil
}

// SaveProgram stores p as the next version after expected (0 for the first)
// and keeps the previous ones; a concurrent save answers Conflict.
func (s *Store) SaveProgram(ctx context.Context, mid string, p loyalty.Program, expected int64, by string, at time.Time) (loyalty.ProgramVersion, error) {
	p.Version = expected + 1
	cur := programItem{PK: merchantPK(mid), SK: skProgram, Type: "program", Version: p.Version, Program: p, UpdatedAt: at.UTC(), UpdatedBy: by}
	hist := cur
	hist.SK, hist.Type = fmt.Sprintf("%s%010d", programSKPfx, p.Version), "program_version"
	curAV, err := attributevalue.MarshalMap(cur)
	if err != nil {
		return loyalty.ProgramVersion{}, err
	}
	histAV, err := attributevalue.MarshalMap(hist)
	if err != nil {
		return loyalty.ProgramVersion{}, err
	}
	cond := "attribute_not_exists(PK)"
	values := map[string]types.AttributeValue(nil)
	if expected > 0 {
		cond, values = "version = :v", map[string]types.AttributeValue{":v": num(expected)}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: curAV, ConditionExpression: aws.String(cond), ExpressionAttributeValues: values}},
		{Put: &types.Put{TableName: &s.table, Item: histAV, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}})
	if _, ok := cancellationReasons(err); ok {
		return loyalty.ProgramVersion{}, apperr.New(apperr.Conflict, "the program changed since version %d; read it again", expected)
	}
	if err != nil {
		return loyalty.ProgramVersion{}, err
	}
	return loyalty.ProgramVersion{Program: p, UpdatedAt: at.UTC(), UpdatedBy: by}, nil
}

// ProgramVersions lists the saved versions, newest first.
func (s *Store) ProgramVersions(ctx context.Context, mid string) ([]loyalty.ProgramVersion, error) {
	var items []programItem
	if err := s.queryPrefix(ctx, merchantPK(mid), programSKPfx, false, &items); err != nil {
		return nil, err
	}
	out := make([]loyalty.ProgramVersion, len(items))
	for i, it := range items {
		it.Program.Version = it.Version
		out[i] = loyalty.ProgramVersion{Program: it.Program, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy}
	}
	return out, nil
}

// queryPrefix reads every item of a partition whose sort key starts with prefix.
func (s *Store) queryPrefix(ctx context.Context, pk, prefix string, forward bool, out any) error {
	var all []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":sk": str(prefix),
		},
		ScanIndexForward: aws.Bool(forward),
		ConsistentRead:   aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		all = append(all, page.Items...)
	}
	return attributevalue.UnmarshalListOfMaps(all, out)
}

type badgeItem struct {
	PK    string        `dynamodbav:"PK"`
	SK    string        `dynamodbav:"SK"`
	Type  string        `dynamodbav:"type"`
	Badge loyalty.Badge `dynamodbav:"badge"`
}

// Badges lists the merchant's badge definitions.
func (s *Store) Badges(ctx context.Context, mid string) ([]loyalty.Badge, error) {
	var items []badgeItem
	if err := s.queryPrefix(ctx, merchantPK(mid), badgeDefSKPfx, true, &items); err != nil {
		return nil, err
	}
	out := make([]loyalty.Badge, len(items))
	for i, it := range items {
		out[i] = it.Badge
	}
	return out, nil
}

// PutBadge creates a badge definition, or replaces one that still exists.
func (s *Store) PutBadge(ctx context.Context, mid string, b loyalty.Badge, replace bool) error {
	return s.putConfig(ctx, badgeItem{PK: merchantPK(mid), SK: badgeDefSKPfx + b.ID, Type: "badge", Badge: b}, replace, "badge")
}

// DeleteBadge removes a badge definition; memberships go at the next
// recomputation of each customer.
func (s *Store) DeleteBadge(ctx context.Context, mid, bid string) error {
	return s.deleteConfig(ctx, merchantPK(mid), badgeDefSKPfx+bid, "badge")
}

type rewardItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	Name        string `dynamodbav:"name"`
	Description string `dynamodbav:"description"`
	Cost        int64  `dynamodbav:"cost"`
	Active      bool   `dynamodbav:"active"`
	Stock       *int64 `dynamodbav:"stock"` // top level: redemptions decrement it in their transaction
}

// Rewards lists the merchant's rewards catalog.
func (s *Store) Rewards(ctx context.Context, mid string) ([]loyalty.Reward, error) {
	var items []rewardItem
	if err := s.queryPrefix(ctx, merchantPK(mid), rewardSKPfx, true, &items); err != nil {
		return nil, err
	}
	out := make([]loyalty.Reward, len(items))
	for i, it := range items {
		out[i] = loyalty.Reward{ID: it.ID, Name: it.Name, Description: it.Description, Cost: it.Cost, Active: it.Active, Stock: it.Stock}
	}
	return out, nil
}

// PutReward creates a reward, or replaces one that still exists.
func (s *Store) PutReward(ctx context.Context, mid string, r loyalty.Reward, replace bool) error {
	return s.putConfig(ctx, rewardItem{PK: merchantPK(mid), SK: rewardSK(r.ID), Type: "reward", ID: r.ID, Name: r.Name,
		Description: r.Description, Cost: r.Cost, Active: r.Active, Stock: r.Stock}, replace, "reward")
}

// DeleteReward removes a reward from the catalog.
func (s *Store) DeleteReward(ctx context.Context, mid, rid string) error {
	return s.deleteConfig(ctx, merchantPK(mid), rewardSK(rid), "reward")
}

// putConfig writes a configuration item: new (it must not exist) or a
// replacement (it must still exist, so a PUT racing a DELETE cannot revive it).
func (s *Store) putConfig(ctx context.Context, item any, replace bool, what string) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return err
	}
	cond := "attribute_not_exists(PK)"
	if replace {
		cond = "attribute_exists(PK)"
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: aws.String(cond)})
	if conditionFailed(err) {
		if replace {
			return apperr.New(apperr.NotFound, "%s not found", what)
		}
		return apperr.New(apperr.Conflict, "%s already exists", what)
	}
	return err
}

func (s *Store) deleteConfig(ctx context.Context, pk, sk, what string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyOf(pk, sk),
		ConditionExpression: aws.String("attribute_exists(PK)")})
	if conditionFailed(err) {
		return apperr.New(apperr.NotFound, "%s not found", what)
	}
	return err
}

type cardTemplateItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	ID        string    `dynamodbav:"id"`
	Name      string    `dynamodbav:"name"`
	Kind      string    `dynamodbav:"kind"`
	Active    bool      `dynamodbav:"active"`
	CreatedAt time.Time `dynamodbav:"created_at"`
}

// CardTemplates lists the merchant's card templates; "standard" is always
// there (a merchant may store their own version of it).
func (s *Store) CardTemplates(ctx context.Context, mid string) ([]crm.CardTemplate, error) {
	var items []cardTemplateItem
	if err := s.queryPrefix(ctx, merchantPK(mid), cardTplSKPfx, true, &items); err != nil {
		return nil, err
	}
	out := make([]crm.CardTemplate, 0, len(items)+1)
	for _, it := range items {
		out = append(out, crm.CardTemplate{ID: it.ID, Name: it.Name, Kind: crm.CardKind(it.Kind), Active: it.Active, CreatedAt: it.CreatedAt})
	}
	for _, d := range crm.DefaultCardTemplates {
		if !slices.ContainsFunc(out, func(t crm.CardTemplate) bool { return t.ID == d.ID }) {
			out = append([]crm.CardTemplate{d}, out...)
		}
	}
	return out, nil
}

// CreateCardTemplate stores a new template; an existing ID answers Conflict.
func (s *Store) CreateCardTemplate(ctx context.Context, mid string, t crm.CardTemplate) error {
	av, err := attributevalue.MarshalMap(cardTemplateItem{PK: merchantPK(mid), SK: cardTplSKPfx + t.ID, Type: "card_template",
		ID: t.ID, Name: t.Name, Kind: string(t.Kind), Active: t.Active, CreatedAt: t.CreatedAt.UTC()})
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if conditionFailed(err) {
		return apperr.Field("/id", "a card template %q already exists", t.ID)
	}
	return err
}

type giftItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	Points      int64  `dynamodbav:"points"`
	Description string `dynamodbav:"description"`
	Cadence     string `dynamodbav:"cadence"`
	Tag         string `dynamodbav:"tag,omitempty"`
	Active      bool   `dynamodbav:"active"`
}

// GiftSchedules lists the merchant's periodic gifts.
func (s *Store) GiftSchedules(ctx context.Context, mid string) ([]loyalty.GiftSchedule, error) {
	var items []giftItem
	if err := s.queryPrefix(ctx, merchantPK(mid), giftSchedSKPfx, true, &items); err != nil {
		return nil, err
	}
	out := make([]loyalty.GiftSchedule, len(items))
	for i, it := range items {
		out[i] = loyalty.GiftSchedule{ID: it.ID, Points: it.Points, Description: it.Description, Cadence: loyalty.Cadence(it.Cadence), Tag: it.Tag, Active: it.Active}
	}
	return out, nil
}

// PutGiftSchedule creates a periodic gift.
func (s *Store) PutGiftSchedule(ctx context.Context, mid string, g loyalty.GiftSchedule) error {
	return s.putConfig(ctx, giftItem{PK: merchantPK(mid), SK: giftSchedSKPfx + g.ID, Type: "gift_schedule", ID: g.ID, Points: g.Points,
		Description: g.Description, Cadence: string(g.Cadence), Tag: g.Tag, Active: g.Active}, false, "gift schedule")
}

// DeleteGiftSchedule removes a periodic gift.
func (s *Store) DeleteGiftSchedule(ctx context.Context, mid, id string) error {
	return s.deleteConfig(ctx, merchantPK(mid), giftSchedSKPfx+id, "gift schedule")
}
