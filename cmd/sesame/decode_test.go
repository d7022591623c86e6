package main

import "encoding/base64"

func decodeSegment(s string) string {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return string(b)
}
