package main

import (
	"net/http"
	"net/http/httptest"

	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

func loginActor(id string) login.Actor { return login.Actor{ID: id} }

func auditFilter(orgID string) storage.AuditFilter { return storage.AuditFilter{OrgID: orgID} }

func storageHash(s string) string { return storage.HashToken(s) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func httpRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

type storageEvent = storage.AuditEvent
