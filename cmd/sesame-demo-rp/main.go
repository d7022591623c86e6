package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// config is what the demo needs to know.
type config struct {
	Issuer, ClientID, ClientSecret, BaseURL string
}

func main() {
	var c config
	var listen string
	flag.StringVar(&c.Issuer, "issuer", "http://localhost:8080", "Sesame's issuer URL")
	flag.StringVar(&c.ClientID, "client-id", "demo", "client id registered with `sesame client add`")
	flag.StringVar(&c.ClientSecret, "client-secret", os.Getenv("DEMO_CLIENT_SECRET"), "client secret (or DEMO_CLIENT_SECRET)")
	flag.StringVar(&listen, "listen", "127.0.0.1:9090", "address to listen on")
	flag.StringVar(&c.BaseURL, "base-url", "http://localhost:9090", "this application's URL; the redirect URI is BASE/callback")
	flag.Parse()
	if c.ClientSecret == "" {
		fmt.Fprintln(os.Stderr, "sesame-demo-rp: --client-secret (or DEMO_CLIENT_SECRET) is required")
		os.Exit(2)
	}
	h, err := newApp(context.Background(), c)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("demo relying party on %s (redirect URI %s/callback)", c.BaseURL, c.BaseURL)
	srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sesame demo relying party</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem">
<h1>Sesame demo relying party</h1>
{{if .Claims}}
<p>Signed in as <strong id="who">{{.Email}}</strong>{{if .Org}} of <strong id="org">{{.Org}}</strong>{{end}}.</p>
<h2>ID token claims</h2>
<pre id="claims">{{.Claims}}</pre>
<h2>Userinfo</h2>
<pre id="userinfo">{{.Userinfo}}</pre>
<p><a href="{{.Logout}}">Sign out</a></p>
{{else}}
<p><a id="signin" href="/login">Sign in with Sesame</a></p>
{{end}}
</body></html>`))

type view struct {
	Email, Org, Claims, Userinfo, Logout string
}

func newApp(ctx context.Context, c config) (http.Handler, error) {
	hashKey, encKey := make([]byte, 32), make([]byte, 32)
	rand.Read(hashKey)
	rand.Read(encKey)
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, err
	}
	opts := []httphelper.CookieHandlerOpt{}
	if u.Scheme != "https" {
		opts = append(opts, httphelper.WithUnsecure())
	}
	cookies := httphelper.NewCookieHandler(hashKey, encKey, opts...)
	party, err := rp.NewRelyingPartyOIDC(ctx, c.Issuer, c.ClientID, c.ClientSecret, c.BaseURL+"/callback",
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, "organization"}, rp.WithPKCE(cookies),
		rp.WithVerifierOpts(rp.WithIssuedAtOffset(5*time.Second)))
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", c.Issuer, err)
	}
	state := func() string { return rand.Text() }

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page.Execute(w, view{})
	})
	mux.Handle("GET /login", rp.AuthURLHandler(state, party))
	mux.Handle("GET /callback", rp.CodeExchangeHandler(rp.UserinfoCallback(
		func(w http.ResponseWriter, r *http.Request, tokens *oidc.Tokens[*oidc.IDTokenClaims], _ string, _ rp.RelyingParty, info *oidc.UserInfo) {
			claims, _ := json.MarshalIndent(tokens.IDTokenClaims, "", "  ")
			ui, _ := json.MarshalIndent(info, "", "  ")
			org, _ := tokens.IDTokenClaims.Claims["org_name"].(string)
			// The browser itself must visit end_session, so that Sesame
			// sees and ends its session.
			logout := party.GetEndSessionEndpoint() + "?" + url.Values{"id_token_hint": {tokens.IDToken},
				"post_logout_redirect_uri": {c.BaseURL + "/"}}.Encode()
			v := view{Email: tokens.IDTokenClaims.Email, Org: org, Claims: string(claims), Userinfo: string(ui), Logout: logout}
			w.Header().Set("Cache-Control", "no-store")
			page.Execute(w, v)
		}), party))
	return mux, nil
}
