// Package loadgen drives a running OpenID provider as browsers and relying
// parties would, and measures: the engine of cmd/sesame-load and of
// cmd/sesame's benchmarks.
package loadgen

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// The load test signs in through the hosted form exactly as a browser and
// a relying party would, against a running Sesame, and measures.

const (
	ClientID     = "loadtest"
	ClientSecret = "loadtest-client-secret-0123456789"
	Redirect     = "http://127.0.0.1:9/loadtest/cb" // never contacted
	Password     = "load-test-passphrase-2026"
)

func Email(i int) string { return fmt.Sprintf("load%05d@loadtest.example", i) }

var (
	loadCSRF = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	loadAR   = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	loadID   = regexp.MustCompile(`name="id" value="([^"]+)"`)
)

// OP is the provider under load: Sesame, or for comparison the zitadel/oidc
// v3 example OP (go run github.com/zitadel/oidc/v3/example/server, started with
// REDIRECT_URI set to Redirect), driven by the same code.
type OP struct {
	clientID, secret string
	authorize        string // path of the authorization endpoint
	login            func(client *http.Client, target string, page []byte, i int) (*http.Response, error)
}

var OPs = map[string]OP{
	"sesame": {clientID: ClientID, secret: ClientSecret, authorize: "/authorize", login: func(client *http.Client, target string, page []byte, i int) (*http.Response, error) {
		csrf, ar := loadCSRF.FindSubmatch(page), loadAR.FindSubmatch(page)
		if csrf == nil || ar == nil {
			return nil, errors.New("authorize: no login form")
		}
		return client.PostForm(target+vocab.PathLogin, url.Values{"csrf_token": {string(csrf[1])}, "authRequestID": {string(ar[1])},
			"email": {Email(i)}, "password": {Password}})
	}},
	// The example's one user; its passwords are compared in plain text.
	"zitadel-example": {clientID: "web", secret: "secret", authorize: "/auth", login: func(client *http.Client, target string, page []byte, _ int) (*http.Response, error) {
		id := loadID.FindSubmatch(page)
		if id == nil {
			return nil, errors.New("authorize: no login form")
		}
		return client.PostForm(target+"/login/username", url.Values{"id": {string(id[1])},
			"username": {"test-user@localhost"}, "password": {"verysecure"}})
	}},
}

type Run struct {
	targets  []string
	users    int
	scenario string
	op       OP
	codes    chan pendingCode // for the token scenario: codes signed in beforehand

	mu        sync.Mutex
	latencies []time.Duration
	exchanges []time.Duration // the code exchanges inside measured sign-ins
	errors    atomic.Int64
	errSample atomic.Value
}

type pendingCode struct{ target, code, verifier string }

// prepareCodes signs in, untimed, for the token scenario: the exchanges are
// then measured alone. Codes live tokens.auth_code_lifetime (1 min), so the
// preparation stops after 40 s.
func (r *Run) prepareCodes(ctx context.Context, conc, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	r.codes = make(chan pendingCode, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := r.targets[w%len(r.targets)]
			for ctx.Err() == nil {
				i := int(next.Add(1))
				if i > n {
					return
				}
				code, verifier, err := r.code(target, i, false)
				if err != nil {
					r.fail(err)
					continue
				}
				r.codes <- pendingCode{target, code, verifier}
			}
		}()
	}
	wg.Wait()
	close(r.codes)
	return nil
}

func (r *Run) record(d time.Duration) {
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
}

func (r *Run) fail(err error) {
	r.errors.Add(1)
	r.errSample.CompareAndSwap(nil, err.Error())
}

func NewClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: loadTransport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), Redirect) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

var loadTransport = &http.Transport{MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second,
	DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}

// code signs user i in through the hosted form and returns the code and
// its PKCE verifier.
func (r *Run) code(target string, i int, offline bool) (string, string, error) {
	client := NewClient()
	verifier := storage.NewSecret()
	sum := sha256.Sum256([]byte(verifier))
	scope := "openid email organization"
	if offline {
		scope += " offline_access"
	}
	q := url.Values{"client_id": {r.op.clientID}, "redirect_uri": {Redirect}, "response_type": {"code"}, "scope": {scope},
		"state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := client.Get(target + r.op.authorize + "?" + q.Encode())
	if err != nil {
		return "", "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", "", fmt.Errorf("authorize: status %d", resp.StatusCode)
	}
	resp, err = r.op.login(client, target, body, i%r.users)
	if err != nil {
		return "", "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		return "", "", fmt.Errorf("login: status %d, no code (did --setup run?)", resp.StatusCode)
	}
	return loc.Query().Get("code"), verifier, nil
}

// exchange redeems a code.
func (r *Run) exchange(ctx context.Context, api APIConns, target, code, verifier string) (tokenResponse, error) {
	return r.token(ctx, api, target, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {Redirect}, "code_verifier": {verifier}})
}

// flow signs user i in and exchanges the code.
func (r *Run) flow(ctx context.Context, api APIConns, target string, i int, offline bool) (tokenResponse, error) {
	code, verifier, err := r.code(target, i, offline)
	if err != nil {
		return tokenResponse{}, err
	}
	return r.exchange(ctx, api, target, code, verifier)
}

// tokenResponse is what the load test reads of a token response; the rest
// is skipped unparsed, to keep the generator's share of the CPU small.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

// APIConns are one client's keep-alive connections to the token, userinfo
// and key endpoints, one per server. Requests are written and answers read
// by net/http's own Request.Write and ReadResponse, but without
// http.Transport's pool and its two goroutines per connection: the
// generator shares the machine with the server, and this halves its CPU per
// request, which the server then has.
type APIConns map[string]*apiConn

type apiConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// do sends req and returns the status and body of the answer. A request the
// context cancels fails at once; a failed connection is dropped and the
// next request dials again.
func (cs APIConns) do(ctx context.Context, req *http.Request) (int, []byte, error) {
	host := req.URL.Host
	ac := cs[host]
	if ac == nil {
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", host)
		if err != nil {
			return 0, nil, err
		}
		ac = &apiConn{c: c, br: bufio.NewReader(c), bw: bufio.NewWriter(c)}
		cs[host] = ac
	}
	ac.c.SetDeadline(time.Now().Add(30 * time.Second))
	stop := context.AfterFunc(ctx, func() { ac.c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	status, body, keep, err := ac.roundTrip(req)
	if err != nil || !keep {
		ac.c.Close()
		delete(cs, host)
	}
	return status, body, err
}

func (ac *apiConn) roundTrip(req *http.Request) (status int, body []byte, keep bool, err error) {
	if err := req.Write(ac.bw); err != nil {
		return 0, nil, false, err
	}
	if err := ac.bw.Flush(); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(ac.br, req)
	if err != nil {
		return 0, nil, false, err
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, body, !resp.Close, err
}

func (r *Run) token(ctx context.Context, api APIConns, target string, form url.Values) (tokenResponse, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(r.op.clientID, r.op.secret)
	status, body, err := api.do(ctx, req)
	if err != nil {
		return tokenResponse{}, err
	}
	var out tokenResponse
	if err := json.Unmarshal(body, &out); err != nil || status != 200 || out.IDToken == "" {
		return tokenResponse{}, fmt.Errorf("token: status %d %s", status, out.Error)
	}
	return out, nil
}

func (r *Run) get(ctx context.Context, api APIConns, u, bearer string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	status, _, err := api.do(ctx, req)
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("%s: status %d", u, status)
	}
	return nil
}

// loadWorker is one client's state: its target and, for the refresh and
// userinfo scenarios, the tokens of its own sign-in.
type loadWorker struct {
	target, bearer, refresh string
	api                     APIConns
}

// prepare signs the worker in where its scenario needs tokens; it runs
// before the clock and the CPU count start.
func (r *Run) prepare(ctx context.Context, w int) (*loadWorker, error) {
	lw := &loadWorker{target: r.targets[w%len(r.targets)], api: APIConns{}}
	if r.scenario == "refresh" || r.scenario == "userinfo" {
		tok, err := r.flow(ctx, lw.api, lw.target, w, true)
		if err != nil {
			return nil, err
		}
		lw.bearer, lw.refresh = tok.AccessToken, tok.RefreshToken
	}
	if r.scenario == "api-orgs" {
		tok, err := r.apiToken(ctx, lw.api, lw.target)
		if err != nil {
			return nil, err
		}
		lw.bearer = tok
	}
	return lw, nil
}

// worker runs one scenario until the deadline or the request budget.
func (r *Run) worker(ctx context.Context, w int, lw *loadWorker, budget *atomic.Int64) {
	target := lw.target
	for i := w; ctx.Err() == nil && budget.Add(-1) >= 0; i += 1024 {
		start := time.Now()
		var err error
		switch r.scenario {
		case "signin":
			var code, verifier string
			if code, verifier, err = r.code(target, i, false); err == nil {
				t := time.Now()
				if _, err = r.exchange(ctx, lw.api, target, code, verifier); err == nil {
					r.mu.Lock()
					r.exchanges = append(r.exchanges, time.Since(t))
					r.mu.Unlock()
				}
			}
		case "token":
			c := <-r.codes
			if c.code == "" {
				return // the codes ran out before the deadline
			}
			_, err = r.exchange(ctx, lw.api, c.target, c.code, c.verifier)
		case "refresh":
			var tok tokenResponse
			tok, err = r.token(ctx, lw.api, target, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {lw.refresh}})
			if err == nil {
				lw.refresh = tok.RefreshToken
			}
		case "userinfo":
			err = r.get(ctx, lw.api, target+"/userinfo", lw.bearer)
		case "jwks":
			err = r.get(ctx, lw.api, target+"/keys", "")
		case "discovery":
			err = r.get(ctx, lw.api, target+"/.well-known/openid-configuration", "")
		case "api-orgs":
			err = r.get(ctx, lw.api, target+APIOrgsPath, lw.bearer)
		}
		if err != nil {
			if ctx.Err() == nil {
				r.fail(err)
			}
			continue
		}
		r.record(time.Since(start))
	}
}

// procStat reads a process's CPU time (user+system) and resident memory.
func procStat(pid int) (cpu time.Duration, rssKiB int64, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	if len(fields) < 13 {
		return 0, 0, false
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKiB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return cpu, rssKiB, true
}

func (r *Run) run(ctx context.Context, out io.Writer, conc int, d time.Duration, maxReq, pid int) error {
	workers := make([]*loadWorker, 0, conc)
	for w := range conc {
		lw, err := r.prepare(ctx, w)
		if err != nil {
			return fmt.Errorf("preparing client %d: %w", w, err)
		}
		workers = append(workers, lw)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cpu0, _, haveProc := procStat(pid)
	self0, _, haveSelf := procStat(os.Getpid())
	var budget atomic.Int64
	budget.Store(int64(maxReq))
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() { defer wg.Done(); r.worker(ctx, w, workers[w], &budget) }()
	}
	wg.Wait()
	elapsed := time.Since(start)
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	pctOf := func(lat []time.Duration, p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(10 * time.Microsecond)
	}
	pct := func(p float64) time.Duration { return pctOf(lat, p) }
	fmt.Fprintf(out, "scenario %s, %d workers, %s, targets %s\n", r.scenario, conc, elapsed.Round(time.Millisecond), strings.Join(r.targets, " "))
	fmt.Fprintf(out, "operations %d, errors %d, %.1f ops/s\n", len(lat), r.errors.Load(), float64(len(lat))/elapsed.Seconds())
	fmt.Fprintf(out, "latency p50 %s  p90 %s  p99 %s  max %s\n", pct(.5), pct(.9), pct(.99), pct(1))
	if len(r.exchanges) > 0 {
		ex := slices.Clone(r.exchanges)
		slices.Sort(ex)
		fmt.Fprintf(out, "code exchange within the sign-ins: p50 %s  p90 %s  p99 %s  max %s\n",
			pctOf(ex, .5), pctOf(ex, .9), pctOf(ex, .99), pctOf(ex, 1))
	}
	if s, ok := r.errSample.Load().(string); ok {
		fmt.Fprintf(out, "first error: %s\n", s)
	}
	if self1, _, ok := procStat(os.Getpid()); haveSelf && ok && len(lat) > 0 {
		fmt.Fprintf(out, "load generator: CPU %.2f ms per operation\n", float64((self1-self0).Microseconds())/1000/float64(len(lat)))
	}
	if cpu1, rss, ok := procStat(pid); haveProc && ok && len(lat) > 0 {
		fmt.Fprintf(out, "server pid %d: CPU %.2f ms per operation, RSS %.1f MiB\n", pid,
			float64((cpu1-cpu0).Microseconds())/1000/float64(len(lat)), float64(rss)/1024)
	}
	return nil
}
