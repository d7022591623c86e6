package cloudaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	osc "github.com/outscale/osc-sdk-go/v2"
)

// Errors of Verify.
var (
	ErrInvalid     = errors.New("cloudaccount: wrong email or password")
	ErrLocked      = errors.New("cloudaccount: too many failed attempts, the account is locked for a while")
	ErrUnavailable = errors.New("cloudaccount: the cloud provider cannot be reached")
)

// Verifier checks a cloud account's credentials and returns its id.
type Verifier interface {
	Verify(ctx context.Context, email, password string) (accountID string, err error)
}

// Static verifies accounts listed in the configuration. Check compares a
// password with a stored hash (argon2id, from login/password).
type Static struct {
	Accounts map[string]string // lower-cased email → password hash
	Check    func(ctx context.Context, hash, password string) error
}

// Verify checks the password; an unknown email costs the same time.
func (s Static) Verify(ctx context.Context, email, password string) (string, error) {
	id := strings.ToLower(strings.TrimSpace(email))
	hash, ok := s.Accounts[id]
	if err := s.Check(ctx, hash, password); err != nil || !ok {
		if ctx.Err() != nil {
			return "", ErrUnavailable
		}
		return "", ErrInvalid
	}
	return id, nil
}

// DefaultRegion is the region of the sovereign cloud.
const DefaultRegion = "cloudgouv-eu-west-1"

// Outscale verifies accounts with the OUTSCALE API.
type Outscale struct {
	Region    string // default cloudgouv-eu-west-1
	Endpoint  string // default https://api.{region}.outscale.com/api/v1
	AccessKey string
	SecretKey string
	Timeout   time.Duration // default 10 s

	client *osc.APIClient
}

func (o *Outscale) api() *osc.APIClient {
	if o.client != nil {
		return o.client
	}
	cfg := osc.NewConfiguration()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cfg.HTTPClient = &http.Client{Timeout: timeout}
	cfg.UserAgent = "Sesame identity provider (" + cfg.UserAgent + ")"
	if o.Endpoint != "" {
		cfg.Servers = osc.ServerConfigurations{{URL: o.Endpoint}}
	}
	o.client = osc.NewAPIClient(cfg)
	return o.client
}

// apiErrors is the error body of the OUTSCALE API.
type apiErrors struct {
	Errors []struct {
		Code    string `json:"Code"`
		Type    string `json:"Type"`
		Details string `json:"Details"`
	} `json:"Errors"`
}

// Verify calls CheckAuthentication.
func (o *Outscale) Verify(ctx context.Context, email, password string) (string, error) {
	region := o.Region
	if region == "" {
		region = DefaultRegion
	}
	ctx = context.WithValue(ctx, osc.ContextAWSv4, osc.AWSv4{AccessKey: o.AccessKey, SecretKey: o.SecretKey})
	ctx = context.WithValue(ctx, osc.ContextServerVariables, map[string]string{"region": region})
	login := strings.TrimSpace(email)
	_, resp, err := o.api().AccountApi.CheckAuthentication(ctx).
		CheckAuthenticationRequest(osc.CheckAuthenticationRequest{Login: login, Password: password}).Execute()
	if err == nil {
		return strings.ToLower(login), nil
	}
	return "", classify(resp, err)
}

// classify maps the API's answer to Verify's errors. The codes are the
// OUTSCALE API's: 1, 4, 5, 7 and 9 refuse the credentials; 11 and 13 are
// the brute-force locks; 6 is throttling.
func classify(resp *http.Response, err error) error {
	var apiErr osc.GenericOpenAPIError
	if resp == nil || !errors.As(err, &apiErr) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var body apiErrors
	_ = json.Unmarshal(apiErr.Body(), &body)
	for _, e := range body.Errors {
		switch e.Code {
		case "11", "13":
			return ErrLocked
		case "6":
			return fmt.Errorf("%w: throttled", ErrUnavailable)
		case "1", "4", "5", "7", "9":
			return ErrInvalid
		}
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return ErrInvalid
	}
	return fmt.Errorf("%w: status %d", ErrUnavailable, resp.StatusCode)
}
