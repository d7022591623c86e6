// Package company checks French company identifiers (SIRET, SIREN) before
// any lookup and finds companies in a directory. A SIRET is 14 digits: the
// 9-digit SIREN of the company and a 5-digit establishment number; both
// carry a Luhn key, except La Poste's establishments (SIREN 356000000),
// whose SIRET digits sum to a multiple of 5.
//
// Directories: RechercheEntreprises speaks the public API of the French
// state (GET /search?q=<siret>), with a timeout, a descriptive User-Agent,
// a cache, and 429 Retry-After honoured; Static serves companies listed in
// the configuration, for development. A closed establishment or a ceased
// company is refused: it cannot found an organization.
package company
