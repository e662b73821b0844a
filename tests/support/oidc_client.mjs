// The relying party's side of an authorization request, built by openid-client as an app
// would build it: PKCE S256 over a fresh verifier, fresh `state` and `nonce`.
import * as client from "openid-client";

/** A fresh authorization request for `config` (openid-client's discovered configuration):
 * the URL, and the secrets the code exchange checks. `params` (`redirect_uri`, `scope`,
 * anything else) go into the URL and may override the PKCE method. */
export async function authorizationRequest(config, params) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    nonce, state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", ...params,
  });
  return { url, verifier, nonce, state };
}
