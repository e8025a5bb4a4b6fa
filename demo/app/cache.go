package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// talkSource is where the catalogue is loaded from: the database (store),
// or a fake in tests.
type talkSource interface {
	all(ctx context.Context) ([]Talk, error)
}

// catalogueCopy is the catalogue as one instance holds it in memory: the
// database is off the hot path, so a search costs the same however many
// instances share one MongoDB, and an instance's capacity is its limiter's.
type catalogueCopy struct {
	// talks are in answer order: newest year first, then by ID.
	talks []indexedTalk
	// loaded is when it was read from the database.
	loaded time.Time
}

// indexedTalk keeps the lower-cased text a search looks at, computed once
// per load rather than once per request.
type indexedTalk struct {
	Talk
	text []string
}

func newCatalogueCopy(talks []Talk, loaded time.Time) *catalogueCopy {
	c := &catalogueCopy{talks: make([]indexedTalk, len(talks)), loaded: loaded}
	for i, t := range talks {
		text := []string{strings.ToLower(t.Title), strings.ToLower(t.Speaker)}
		for _, tag := range t.Tags {
			text = append(text, strings.ToLower(tag))
		}
		c.talks[i] = indexedTalk{Talk: t, text: text}
	}
	slices.SortFunc(c.talks, func(a, b indexedTalk) int {
		return cmp.Or(cmp.Compare(b.Year, a.Year), cmp.Compare(a.ID, b.ID))
	})
	return c
}

// search matches q case-insensitively as a plain substring of the title,
// the speaker or any tag (what the database's $regex search did), and
// returns the number of matches and the first limit of them.
func (c *catalogueCopy) search(q string, limit int) (int64, []Talk) {
	q = strings.ToLower(q)
	var count int64
	results := []Talk{}
	for _, t := range c.talks {
		if !slices.ContainsFunc(t.text, func(s string) bool { return strings.Contains(s, q) }) {
			continue
		}
		count++
		if len(results) < limit {
			results = append(results, t.Talk)
		}
	}
	return count, results
}

// refresh reads the whole catalogue from the source and, only if that
// worked, replaces the copy searches use: a failed refresh keeps serving
// the previous copy and is reported by /health, so a database that
// stutters does not take every instance out of the load balancer.
func (s *server) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	talks, err := s.source.all(ctx)
	if err != nil {
		err = fmt.Errorf("refresh the catalogue from the database: %w", err)
		msg := err.Error()
		s.refreshErr.Store(&msg)
		return err
	}
	s.catalogue.Store(newCatalogueCopy(talks, s.cfg.now()))
	s.refreshErr.Store(nil)
	return nil
}

// refreshLoop refreshes the catalogue on every tick until ctx ends; the
// ticks are a parameter so that a test drives them.
func (s *server) refreshLoop(ctx context.Context, ticks <-chan time.Time) {
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		err := s.refresh(ctx)
		switch {
		case err != nil && err.Error() != lastErr && ctx.Err() == nil:
			// Log a changed reason only, not every tick of an outage.
			s.log.Warn("catalogue refresh failed, serving the previous copy", "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			s.log.Info("catalogue refresh works again")
			lastErr = ""
		}
	}
}
