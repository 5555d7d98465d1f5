// Package auth mints and verifies Dwell's bearer tokens and keeps the
// per-tenant keys that sign them. It is the only package that knows the token
// format; everything else sees a verified dwell.Principal.
//
// # Tokens
//
// A token is a compact JWS (a JWT) signed with HMAC-SHA256 ("alg": "HS256")
// under its tenant's key. The protected header carries "kid", the id of the
// key that signed it. The claims are:
//
//	iss     "dwell", always
//	sub     the principal's subject (a rep id, a manager's user id, an
//	        account name), non-empty
//	tenant  the tenant id; it selects the verification key
//	role    "rep", "manager", "admin" or "partner" (dwell.Role.String)
//	iat     issue time, Unix seconds
//	nbf     not-before time, Unix seconds; equal to iat
//	exp     expiry time, Unix seconds; required
//	jti     a random token id, for audit logs
//
// Verify accepts only HS256 (never "none", never an asymmetric or other HMAC
// algorithm), takes the key named by the tenant claim, requires the header's
// kid to be that key's id, and checks exp and nbf against the caller's clock
// with Leeway of slack for clock skew. A token is accepted only if all of
// that holds and iss, sub and role are well-formed. Every rejection is a
// dwell.Unauthenticated error whose message (dwell.MessageOf) is short and
// safe to return to the caller, such as "token expired" or "token signature
// invalid"; the wrapped error says more, for logs. VerifyUntil also returns
// the instant from which Verify refuses the token as expired (exp plus
// Leeway), for a server that holds a stream open on it.
//
// # Key files
//
// A Keyring opened with OpenKeyring lives in one directory, by convention
// the server's data directory plus "/keys", mode 0700 (see "Shared keys"
// for the other kinds). Each tenant has one file named
// "<tenant>.json", mode 0600:
//
//	{
//	  "tenant":  "acme",
//	  "kid":     "…",             // random; goes in the token header
//	  "alg":     "HS256",
//	  "secret":  "…",             // standard base64 of 32 random bytes
//	  "created": "2026-01-02T15:04:05Z"
//	}
//
// A key file is created once, atomically (written to a temporary file that
// is synced, then hard-linked into place so that an existing key is never
// replaced, then the directory is synced), so a crash never leaves a
// half-written key and two processes creating the same tenant's key agree on
// one. Files whose names start with "." or do not end in ".json" are
// ignored; they include temporary files left behind by a crash.
//
// # Rotation
//
// A tenant has exactly one key today. The kid in every token header is there
// so that rotation can be added without changing the token format: a tenant
// would then hold a current key, used by Mint, and older keys still accepted
// by Verify until the tokens they signed expire, all chosen by kid.
//
// # Caveats
//
// HS256 is a shared secret: the key that verifies a token also mints one.
// Anyone who can read the keys directory can mint a token for any tenant and
// any role. That is intended: it is how "dwellctl token mint" issues tokens on
// the server host. Guard the data directory like a private key and keep it
// out of backups that are less protected than the server. With keys in a
// database (dwelld --postgres), the same holds for the signing_keys table:
// any role that can read it, any replica and any dump of it can mint a
// token for every tenant and role, so grant it to dwelld's role alone and
// guard the dumps.
//
// # Shared keys
//
// OpenKeyStore backs a Keyring with a KeyStore instead of a directory: the
// PostgreSQL store keeps the keys in the database, so that every server
// sharing it signs and verifies with the same key per tenant. A key is
// created once (the first one stored wins; every EnsureTenant racing it
// gets that one) and never changed. ImportKeys copies a directory's keys
// into a store, keeping the store's key where both have one; Compare
// tells which differ. NewKeyring holds given keys and creates none.
//
// A Keyring reads its directory (or store) when it is opened and on
// Reload. A key created by another process is not seen by a running server
// until it calls Reload or restarts; until then, tokens of that tenant are
// rejected with "unknown tenant". dwelld reloads every 10 seconds.
//
// "unknown tenant" tells an unauthenticated caller whether a tenant id
// exists. Tenant ids are not secrets in Dwell; if they become so, fold that
// message into "token signature invalid".
package auth
