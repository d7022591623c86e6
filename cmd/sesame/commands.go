package main

import (
	"context"

	"github.com/sesame-idp/sesame/internal/cliflag"
)

// commands is every command of `sesame`, in the order `sesame help` lists
// them: dispatch, the list, each command's help and its flags come from here.
// Each command's flags and what it does are in its group's file (cmd_*.go).
var commands = []*command{
	{name: "serve", help: "run the OpenID provider", flags: serveCmd},
	{name: "migrate", help: "create or update the database schema, then exit", flags: migrate},
	{name: "client add", synopsis: "--id ID (--secret S | --public) --redirect-uri URI [...] [--backchannel-logout-uri URI]",
		help: "register a relying party (prints its id; a generated secret once, on stderr)", flags: clientAdd},
	{name: "client list", help: "the relying parties", flags: clientList},
	{name: "client remove", args: []string{"client id"}, help: "remove a relying party", flags: clientRemove},
	{name: "org create", synopsis: "--name NAME (--siret SIRET | --country CC) [--validated]",
		help: "create an organization (prints its id)", flags: orgCreate},
	{name: "org list", synopsis: "[--status S]", help: "the organizations", flags: orgList},
	{name: "org validate", args: []string{"organization id"}, help: "validate a pending organization", flags: orgDecide(false)},
	{name: "org reject", args: []string{"organization id"}, synopsis: "--reason TEXT", help: "reject a pending organization",
		flags: orgDecide(true)},
	{name: "org domain add", args: []string{"organization id", "domain"},
		help: "claim an email domain; prints the TXT record to publish", flags: orgDomainAdd},
	{name: "org domain verify", args: []string{"organization id", "domain"}, synopsis: "[--force]",
		help: "look the domain's record up and mark it verified", flags: orgDomainVerify},
	{name: "org domain list", args: []string{"organization id"}, help: "an organization's domains, their state and record", flags: orgDomainList},
	{name: "org domain remove", args: []string{"organization id", "domain"}, help: "remove a domain", flags: orgDomainRemove},
	{name: "org sso set", args: []string{"organization id"},
		synopsis: "--issuer URL --client-id ID --client-secret-stdin [--scope S ...] [--default-role R] [--enforce]",
		help:     "connect the organization to its own OpenID provider (company sign-in)", flags: orgSSOSet},
	{name: "org sso show", args: []string{"organization id"}, help: "the organization's company sign-in", flags: orgSSOShow},
	{name: "org sso remove", args: []string{"organization id"}, help: "remove the organization's company sign-in", flags: orgSSORemove},
	{name: "user add", synopsis: "--email EMAIL (--org ORG_ID [--role admin] [--role user] | --operator) [--name NAME] [--password-stdin]",
		help: "add a person (prints their id)", flags: userAdd},
	{name: "user list", synopsis: "[--org ID]", help: "the people, with their organization and roles", flags: userList},
	{name: "user disable", args: []string{"user id"}, help: "disable a person: signed out everywhere, tokens revoked", flags: userDisable},
	{name: "user reset-2fa", args: []string{"user id"}, help: "remove a person's second factor", flags: userReset2FA},
	{name: "user passkeys list", args: []string{"user id"}, help: "a person's passkeys", flags: userPasskeysList},
	{name: "user passkeys remove", args: []string{"user id", "passkey id"}, help: "remove one of a person's passkeys",
		flags: userPasskeysRemove},
	{name: "member roles", args: []string{"organization id", "user id"}, synopsis: "--role admin|user [--role ...]",
		help: "set a member's roles (the operator repairs an organization)", flags: memberRoles},
	{name: "keys list", help: "the signing keys", flags: keysList},
	{name: "keys rotate", help: "make new signing keys; the old ones stay published a while", flags: keysRotate},
	{name: "mail list", synopsis: "[--limit N]", help: "recent mail, sent or queued, with its links (tokens hidden)", flags: mailList},
	{name: "storage copy", synopsis: "--from FILE --to FILE", help: "copy every record between two configured backends", flags: storageCopy},
	{name: "backup", synopsis: "--out FILE", help: "a consistent copy of the SQLite database, while it runs", flags: backup},
	{name: "audit list", synopsis: "[--org ID] [--since TIME] [--limit N]", help: "who did what, the most recent first", flags: auditList},
	{name: "version", help: "the module version, VCS revision and Go release of this build", flags: versionCmd},
}

// command is one line of the table.
type command struct {
	name     string   // one word, or a group and a word: "user add"
	args     []string // its positional arguments, described: "client id"
	synopsis string   // its main flags, for the list (every flag is in its help)
	help     string   // one line
	// flags declares the command's flags on fs and returns what runs with
	// them, once they are parsed and its arguments counted.
	flags func(fs *cliflag.Set) action
}

// action runs a command with its positional arguments.
type action func(ctx context.Context, c *cli, args []string) error
