// panva's openid-client v6, a certified relying-party library, against a
// running Sesame: pushed authorization requests, private_key_jwt client
// authentication and DPoP-bound tokens, as a FAPI 2.0 client uses them.
// Run by cmd/sesame's TestOpenIDClient, which starts Sesame, registers the
// client and signs the person in when asked (SESAME_BROWSER): this script
// never sees a password.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'

const issuer = new URL(process.env.SESAME_ISSUER)
const clientID = process.env.SESAME_CLIENT_ID
const redirectURI = process.env.SESAME_REDIRECT_URI
const jwk = JSON.parse(process.env.SESAME_CLIENT_JWK)

// signIn hands an authorization URL to the test's browser, which signs
// the person in, and returns where Sesame sent the browser back.
async function signIn (url) {
  const res = await fetch(process.env.SESAME_BROWSER + '?url=' + encodeURIComponent(url.href))
  assert.equal(res.status, 200, await res.clone().text())
  return new URL(await res.text())
}

async function configuration () {
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  return client.discovery(issuer, clientID, { use_mtls_endpoint_aliases: false }, client.PrivateKeyJwt({ key, kid: jwk.kid }), {
    execute: [client.allowInsecureRequests]
  })
}

test('discovery advertises PAR, private_key_jwt and DPoP', async () => {
  const config = await configuration()
  const md = config.serverMetadata()
  assert.equal(md.pushed_authorization_request_endpoint, issuer.href.replace(/\/$/, '') + '/oauth/par')
  assert.ok(md.token_endpoint_auth_methods_supported.includes('private_key_jwt'))
  assert.ok(md.dpop_signing_alg_values_supported.includes('ES256'))
})

test('PAR, private_key_jwt and DPoP: code flow, userinfo, refresh', async () => {
  const config = await configuration()
  const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectURI,
    scope: 'openid email organization offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state
  }, { DPoP })
  // Only the client and its request_uri travel through the browser.
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
  assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/)

  const callback = await signIn(url)
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP })
    .catch((err) => { throw new Error(`code exchange: ${err.message}: ${JSON.stringify(err.cause ?? {})}`) })
  assert.equal(tokens.token_type, 'dpop')
  const claims = tokens.claims()
  assert.equal(claims.iss, issuer.href.replace(/\/$/, ''))
  assert.ok(claims.org_id, 'the organization scope adds org_id')

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP })
  assert.equal(info.sub, claims.sub)
  assert.equal(info.email, process.env.SESAME_EMAIL)

  // Without its proof, the token is worth nothing.
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, claims.sub), (err) => {
    assert.equal(err.status ?? err.cause?.status, 401)
    return true
  })
  // Nor with a proof of another key.
  const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: thief }))

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP })
  assert.equal(refreshed.token_type, 'dpop')
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token)
  const again = await client.fetchUserInfo(config, refreshed.access_token, claims.sub, { DPoP })
  assert.equal(again.sub, claims.sub)
})

test('a --require-par client cannot use a plain authorization request', async () => {
  const config = await configuration()
  const verifier = client.randomPKCECodeVerifier()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'plain'
  })
  const callback = await signIn(url)
  assert.equal(callback.searchParams.get('error'), 'invalid_request')
  assert.equal(callback.searchParams.get('state'), 'plain')
})

test('a --require-dpop client gets no token without a proof', async () => {
  const config = await configuration()
  const verifier = client.randomPKCECodeVerifier()
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectURI,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'nodpop'
  })
  const callback = await signIn(url)
  await assert.rejects(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'nodpop' }), (err) => {
    assert.equal(err.error ?? err.cause?.error, 'invalid_dpop_proof')
    return true
  })
})
