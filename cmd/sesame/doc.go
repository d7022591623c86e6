// Command sesame is the OpenID provider's one binary: `sesame serve` runs
// it, and the other commands (client, org, user, keys) administer the same
// database with the same configuration.
//
// Configuration (package internal/config) comes from embedded defaults, then
// a YAML file (--config or SESAME_CONFIG), then SESAME_<PATH> environment
// variables, then, for secrets, SESAME_<PATH>_FILE. Every problem is reported
// at once as `section.key: problem` and nothing starts.
//
// Main{Open, Run, Close} is the wiring, shared by serve and by the
// end-to-end tests: storage, keys, the provider, the login screens, one
// router with the security middlewares, the garbage collector and a
// graceful shutdown.
//
// Exit status (exitStatus in cli.go, the CLI door of internal/fail): 0 on
// success; 2 when the command was refused (bad input, a flag, or an
// application error such as a conflict or a missing thing), with one line
// on stderr; 1 when it failed (a bug, a database down).
package main
