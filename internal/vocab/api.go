package vocab

// The management API's scopes: what a client registered for the
// client_credentials grant may be given. The registration rules (the
// console, the command line, the API itself) and the API's checks use this
// one list.
const (
	ScopeOrganizationsRead  = "sesame:organizations:read"
	ScopeOrganizationsWrite = "sesame:organizations:write"
	ScopeMembersRead        = "sesame:members:read"
	ScopeMembersWrite       = "sesame:members:write"
	ScopeUsersWrite         = "sesame:users:write"
	ScopeClientsWrite       = "sesame:clients:write"
	ScopeAuditRead          = "sesame:audit:read"
)

// APIScopes lists them.
var APIScopes = []string{ScopeOrganizationsRead, ScopeOrganizationsWrite, ScopeMembersRead, ScopeMembersWrite,
	ScopeUsersWrite, ScopeClientsWrite, ScopeAuditRead}

// PathAPI is where the management API is mounted.
const PathAPI = "/api/v1"
