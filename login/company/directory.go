package company

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Company is what the directory knows of an establishment and its company.
type Company struct {
	SIRET     string `json:"siret"`
	SIREN     string `json:"siren"`
	Name      string `json:"name"`       // the usual name (nom_complet)
	LegalName string `json:"legal_name"` // raison sociale
	Address   string `json:"address"`    // of the establishment
	Activity  string `json:"activity"`   // NAF/APE code, e.g. 63.11Z
}

// Errors of a lookup.
var (
	ErrUnknown     = errors.New("company: no establishment has this SIRET")
	ErrClosed      = errors.New("company: the establishment is closed")
	ErrUnavailable = errors.New("company: the directory is unavailable")
)

// RateLimitedError says the directory asked to wait.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("company: the directory is busy, retry in %s", e.RetryAfter)
}

// Unwrap makes a rate limit an ErrUnavailable too.
func (e *RateLimitedError) Unwrap() error { return ErrUnavailable }

// Directory finds the company behind a SIRET.
type Directory interface {
	Lookup(ctx context.Context, siret string) (Company, error)
}

// Static is a directory listed in the configuration.
type Static map[string]Company

// Lookup finds a listed SIRET.
func (s Static) Lookup(_ context.Context, siret string) (Company, error) {
	c, ok := s[siret]
	if !ok {
		return Company{}, ErrUnknown
	}
	c.SIRET = siret
	if c.SIREN == "" {
		c.SIREN = siret[:9]
	}
	return c, nil
}

// DefaultBaseURL is the public API's address.
const DefaultBaseURL = "https://recherche-entreprises.api.gouv.fr"

// RechercheEntreprises is a client of the Recherche d'entreprises API.
type RechercheEntreprises struct {
	BaseURL   string
	Client    *http.Client // with a timeout; nil means 5 s
	UserAgent string
	CacheTTL  time.Duration // 0 means one hour
	Now       func() time.Time

	mu         sync.Mutex
	cache      map[string]cached
	retryAfter time.Time // no request before this, after a 429
}

type cached struct {
	c   Company
	err error
	exp time.Time
}

// maxCache bounds the cache; past it the cache starts again empty.
const maxCache = 10000

func (d *RechercheEntreprises) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Lookup asks the API for the SIRET, answering from the cache when it can.
func (d *RechercheEntreprises) Lookup(ctx context.Context, siret string) (Company, error) {
	now := d.now()
	d.mu.Lock()
	if e, ok := d.cache[siret]; ok && now.Before(e.exp) {
		d.mu.Unlock()
		return e.c, e.err
	}
	if now.Before(d.retryAfter) {
		wait := d.retryAfter.Sub(now)
		d.mu.Unlock()
		return Company{}, &RateLimitedError{RetryAfter: wait}
	}
	d.mu.Unlock()

	c, err := d.fetch(ctx, siret)
	if err == nil || errors.Is(err, ErrUnknown) || errors.Is(err, ErrClosed) {
		ttl := d.CacheTTL
		if ttl <= 0 {
			ttl = time.Hour
		}
		d.mu.Lock()
		if d.cache == nil || len(d.cache) >= maxCache {
			d.cache = map[string]cached{}
		}
		d.cache[siret] = cached{c: c, err: err, exp: now.Add(ttl)}
		d.mu.Unlock()
	}
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		d.mu.Lock()
		d.retryAfter = now.Add(rl.RetryAfter)
		d.mu.Unlock()
	}
	return c, err
}

// searchResponse is the part of the API's answer Sesame reads.
type searchResponse struct {
	Results []struct {
		SIREN              string `json:"siren"`
		NomComplet         string `json:"nom_complet"`
		NomRaisonSociale   string `json:"nom_raison_sociale"`
		ActivitePrincipale string `json:"activite_principale"`
		EtatAdministratif  string `json:"etat_administratif"` // A active, C ceased
		Siege              struct {
			SIRET             string `json:"siret"`
			Adresse           string `json:"adresse"`
			EtatAdministratif string `json:"etat_administratif"`
		} `json:"siege"`
		MatchingEtablissements []struct {
			SIRET              string `json:"siret"`
			Adresse            string `json:"adresse"`
			EtatAdministratif  string `json:"etat_administratif"` // A active, F closed
			ActivitePrincipale string `json:"activite_principale"`
		} `json:"matching_etablissements"`
	} `json:"results"`
}

func (d *RechercheEntreprises) fetch(ctx context.Context, siret string) (Company, error) {
	base := d.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/search?"+url.Values{"q": {siret}}.Encode(), nil)
	if err != nil {
		return Company{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	ua := d.UserAgent
	if ua == "" {
		ua = "Sesame identity provider (organization sign-up)"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Company{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return Company{}, &RateLimitedError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"), d.now())}
	case resp.StatusCode != http.StatusOK:
		return Company{}, fmt.Errorf("%w: status %d", ErrUnavailable, resp.StatusCode)
	}
	var body searchResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&body); err != nil {
		return Company{}, fmt.Errorf("%w: decode: %v", ErrUnavailable, err)
	}
	return pick(body, siret)
}

// pick finds the establishment with exactly this SIRET in the answer.
func pick(body searchResponse, siret string) (Company, error) {
	for _, r := range body.Results {
		if r.SIREN != siret[:9] {
			continue
		}
		c := Company{SIRET: siret, SIREN: r.SIREN, Name: r.NomComplet, LegalName: r.NomRaisonSociale, Activity: r.ActivitePrincipale}
		if c.LegalName == "" {
			c.LegalName = r.NomComplet
		}
		found := false
		for _, e := range r.MatchingEtablissements {
			if e.SIRET == siret {
				found, c.Address = true, e.Adresse
				if e.ActivitePrincipale != "" {
					c.Activity = e.ActivitePrincipale
				}
				if e.EtatAdministratif != "A" {
					return c, ErrClosed
				}
			}
		}
		if !found && r.Siege.SIRET == siret {
			found, c.Address = true, r.Siege.Adresse
			if r.Siege.EtatAdministratif != "A" {
				return c, ErrClosed
			}
		}
		if !found {
			continue
		}
		if r.EtatAdministratif != "A" {
			return c, ErrClosed
		}
		return c, nil
	}
	return Company{}, ErrUnknown
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); a
// missing or odd one means a minute.
func retryAfter(h string, now time.Time) time.Duration {
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, time.Hour)
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), time.Hour)
	}
	return time.Minute
}
