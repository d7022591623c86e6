// Package cloudaccount verifies the cloud account of a person who creates an
// organization: its email and password are checked with the cloud provider
// and never stored nor logged.
//
// Outscale asks the OUTSCALE API through its official SDK
// (CheckAuthentication with the login and password, the request signed with
// the operator's access key); Static checks accounts listed in the
// configuration, for development. The account id Sesame records is the
// account's login (its email address), lower-cased.
package cloudaccount
