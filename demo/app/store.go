package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// collectionName holds the catalogue inside Config.Database.
const collectionName = "talks"

// store is the app's view of the database.
type store struct {
	client *mongo.Client
	talks  *mongo.Collection
}

// openStore prepares a client without contacting the server: the driver
// connects lazily, which lets the app start, and answer 503, before the
// database exists.
func openStore(uri, database string) (*store, error) {
	client, err := mongo.Connect(options.Client().
		ApplyURI(uri).
		SetAppName("topo-demo-app").
		// Short timeouts keep /health and /search honest: a database that
		// went away shows as 503 within seconds, not after the driver's
		// default 30 s of server selection.
		SetServerSelectionTimeout(2 * time.Second).
		SetConnectTimeout(2 * time.Second))
	if err != nil {
		return nil, fmt.Errorf("mongo uri %q: %w", uri, err)
	}
	return &store{client: client, talks: client.Database(database).Collection(collectionName)}, nil
}

func (s *store) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.client.Disconnect(ctx)
}

func (s *store) ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("database ping: %w", err)
	}
	return nil
}

// seed inserts the catalogue unless it is already complete and returns how
// many talks this call inserted. Several instances may seed at once: the
// talks carry fixed _id values, so a talk another instance inserted first
// fails here as a duplicate key, which is success for us.
func (s *store) seed(ctx context.Context) (int, error) {
	talks := Catalogue()
	have, err := s.talks.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("count catalogue: %w", err)
	}
	if have >= int64(len(talks)) {
		return 0, nil
	}
	docs := make([]any, len(talks))
	for i := range talks {
		docs[i] = talks[i]
	}
	// Unordered, so that one duplicate does not stop the rest of the batch.
	_, err = s.talks.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return len(talks), nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return 0, fmt.Errorf("seed catalogue: %w", err)
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(mongo.WriteException{WriteErrors: []mongo.WriteError{we.WriteError}}) {
			return 0, fmt.Errorf("seed catalogue: %w", err)
		}
	}
	return len(talks) - len(bwe.WriteErrors), nil
}

// all reads the whole catalogue; an instance holds it in memory
// (catalogueCopy), so the database is read once per refresh, not once per
// search.
func (s *store) all(ctx context.Context) ([]Talk, error) {
	cur, err := s.talks.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	talks := []Talk{}
	if err := cur.All(ctx, &talks); err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	return talks, nil
}
