// Reading the claims of the Worker's tokens, to show them and to check what the bank needs
// (`nonce`, `oid`, `acrs`). Not a verification: the page got the tokens straight from the
// Worker over its own request, and the bank's API, not this page, is what trusts them.

/** The payload of a JWT, or null. */
export function jwtClaims(token) {
  try {
    const part = String(token).split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = new TextDecoder().decode(Uint8Array.from(atob(part.padEnd(Math.ceil(part.length / 4) * 4, "=")), (c) => c.charCodeAt(0)));
    return JSON.parse(text);
  } catch {
    return null;
  }
}

