// Package company checks French company identifiers (SIRET, SIREN) before
// any lookup, and will find companies in a directory. A SIRET is 14 digits:
// the 9-digit SIREN of the company and a 5-digit establishment number; both
// carry a Luhn key, except La Poste's establishments (SIREN 356000000),
// whose SIRET digits sum to a multiple of 5.
package company
