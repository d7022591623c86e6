package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var langLinkRe = regexp.MustCompile(`<a href="([^"]*)" hreflang=`)

// TestLanguageLinkOfA404StaysOnSite: the "English" link of the page that
// answers a crafted path (//evil.example/login…) is a path of this site.
// The request lines are written by hand, as an attacker's link makes a
// browser send them.
func TestLanguageLinkOfA404StaysOnSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := strings.TrimPrefix(e.issuer, "http://")
	for _, target := range []string{"//evil.example/login", "///evil.example", `/\evil.example`, "/%2F%2Fevil.example",
		"/%5C%5Cevil.example", "/%2F%5Cevil.example", "//evil.example/login?lang=fr"} {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, body := readResponse(t, conn)
		conn.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d", target, resp.StatusCode)
		}
		m := langLinkRe.FindStringSubmatch(body)
		if m == nil {
			t.Errorf("%s: %d, no language link", target, resp.StatusCode)
			continue
		}
		href := strings.ReplaceAll(m[1], "&amp;", "&")
		page, _ := url.Parse(e.issuer + "/x")
		ref, err := url.Parse(href)
		if err != nil || strings.ContainsAny(href, `\`) || page.ResolveReference(ref).Host != host {
			t.Errorf("%s: the language link %q leaves the site", target, href)
		}
	}
}

func readResponse(t *testing.T, conn net.Conn) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}
