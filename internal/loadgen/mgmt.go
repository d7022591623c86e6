package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// The management API's scenario, api-orgs: GET
// /api/v1/organizations?limit=50 with a client_credentials token, against
// the organizations SetupAPI made.

// APIClientID is the management API's load-test client (the load-test
// client's secret).
const APIClientID = "loadtest-api"

// APIOrgsPath is what the api-orgs scenario asks for.
const APIOrgsPath = "/api/v1/organizations?limit=50"

// SetupAPI creates, through storage, the management API's load-test
// client (client_credentials, sesame:organizations:read) and organizations
// up to n (org_load_00000…), pending and validated in turn.
func SetupAPI(ctx context.Context, s SetupStore, hashSecret func(secret string) (string, error), n int, now time.Time, out io.Writer) error {
	hash, err := hashSecret(ClientSecret)
	if err != nil {
		return err
	}
	_ = s.DeleteClient(ctx, APIClientID)
	if err := s.CreateClient(ctx, storage.Client{ID: APIClientID, Name: "Load test (API)", SecretHash: hash,
		Grants: []string{storage.GrantClientCredentials}, Scopes: []string{"sesame:organizations:read"}, CreatedAt: now}); err != nil {
		return err
	}
	created := 0
	for i := range n {
		status := storage.OrgPending
		if i%2 == 1 {
			status = storage.OrgValidated
		}
		o := storage.Organization{ID: fmt.Sprintf("org_load_%05d", i), Name: fmt.Sprintf("Load organization %05d", i),
			Domicile: storage.DomicileAbroad, Country: "BE", Status: status, CreatedAt: now.Add(time.Duration(i) * time.Millisecond)}
		if err := s.CreateOrganization(ctx, o); err == nil {
			created++
		} else if !errors.Is(err, storage.ErrConflict) {
			return err
		}
	}
	fmt.Fprintf(out, "setup: client %s, %d organizations created (%d asked)\n", APIClientID, created, n)
	return nil
}

// apiToken gets the worker's management API token by client credentials.
func (r *Run) apiToken(ctx context.Context, api APIConns, target string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(APIClientID, ClientSecret)
	status, body, err := api.do(ctx, req)
	if err != nil {
		return "", err
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || status != 200 || out.AccessToken == "" {
		return "", fmt.Errorf("client_credentials token: status %d (run with --setup --orgs N first)", status)
	}
	return out.AccessToken, nil
}
