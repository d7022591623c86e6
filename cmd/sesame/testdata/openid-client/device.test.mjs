// panva's openid-client v6 doing the device authorization grant (RFC 8628)
// against a running Sesame, as a command-line tool does: it asks for a
// code, the person approves (or denies) it on the device page, and the
// tool's polls get the tokens (or the refusal). Run by cmd/sesame's
// TestOpenIDClientDevice, which starts Sesame, registers the public client
// with `sesame client add --public --grant device_code` and plays the
// person's browser when asked (SESAME_BROWSER): this script never sees a
// password.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'

const issuer = new URL(process.env.SESAME_ISSUER)
const base = issuer.href.replace(/\/$/, '')
const clientID = process.env.SESAME_CLIENT_ID
const userCodeShape = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/

async function configuration () {
  return client.discovery(issuer, clientID, undefined, client.None(), { execute: [client.allowInsecureRequests] })
}

// answer has the test's browser open the verification link, sign in and
// approve or deny; it resolves when the page said so.
async function answer (url, decision) {
  const res = await fetch(process.env.SESAME_BROWSER + '?decision=' + decision + '&url=' + encodeURIComponent(url))
  assert.equal(res.status, 200, await res.clone().text())
}

// poll posts one poll by hand, to see the answers the library waits through.
async function poll (deviceCode) {
  const res = await fetch(base + '/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: clientID })
  })
  return { status: res.status, body: await res.json() }
}

test('discovery advertises the device authorization endpoint', async () => {
  const md = (await configuration()).serverMetadata()
  assert.equal(md.device_authorization_endpoint, base + '/oauth/device_authorization')
  assert.ok(md.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:device_code'))
})

test('device flow: pending, approved on the device page, tokens, userinfo, refresh', async () => {
  const config = await configuration()
  const response = await client.initiateDeviceAuthorization(config, { scope: 'openid email organization offline_access' })
  assert.match(response.user_code, userCodeShape)
  assert.equal(response.verification_uri, base + '/device')
  assert.equal(response.verification_uri_complete, base + '/device?user_code=' + response.user_code)
  assert.equal(response.interval, 5)
  assert.equal(response.expires_in, 600)

  const pending = await poll(response.device_code)
  assert.equal(pending.status, 400)
  assert.equal(pending.body.error, 'authorization_pending')

  await answer(response.verification_uri_complete, 'approve')
  const tokens = await client.pollDeviceAuthorizationGrant(config, response)
  assert.equal(tokens.token_type, 'bearer')
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token')
  const claims = tokens.claims()
  assert.equal(claims.iss, base)
  assert.deepEqual([claims.aud].flat(), [clientID])
  assert.ok(claims.org_id, 'the organization scope adds org_id')
  assert.equal(claims.sid, undefined, 'the device is in no browser session')

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  assert.equal(info.email, process.env.SESAME_EMAIL)

  // The device code is spent.
  const again = await poll(response.device_code)
  assert.equal(again.body.error, 'invalid_grant')

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  assert.ok(refreshed.access_token)
})

test('device flow: too fast is slow_down, denied is access_denied', async () => {
  const config = await configuration()
  const response = await client.initiateDeviceAuthorization(config, { scope: 'openid' })
  assert.equal((await poll(response.device_code)).body.error, 'authorization_pending')
  assert.equal((await poll(response.device_code)).body.error, 'slow_down')
  await answer(response.verification_uri_complete, 'deny')
  await assert.rejects(client.pollDeviceAuthorizationGrant(config, response), (err) => {
    assert.equal(err.error ?? err.cause?.error, 'access_denied')
    return true
  })
})

test('device flow: an unknown device code is invalid_grant', async () => {
  const res = await poll('not-a-device-code')
  assert.equal(res.status, 400)
  assert.equal(res.body.error, 'invalid_grant')
})
