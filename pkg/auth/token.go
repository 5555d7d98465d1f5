package auth

import (
	"crypto/rand"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Issuer is the "iss" claim of every Dwell token.
const Issuer = "dwell"

// Leeway is the clock skew Verify allows on "exp" and "nbf" (and "iat").
const Leeway = 30 * time.Second

// MaxTTL is the longest lifetime Mint gives a token: ten years of 365 days,
// for service accounts of partners.
const MaxTTL = 10 * 365 * 24 * time.Hour

// maxTokenBytes bounds the work Verify does for one token. Dwell's tokens are
// a few hundred bytes.
const maxTokenBytes = 8 << 10

// Caller-facing messages of Verify's dwell.Unauthenticated errors.
const (
	msgMalformed   = "malformed token"
	msgAlg         = "unsupported signing method"
	msgSignature   = "token signature invalid"
	msgExpired     = "token expired"
	msgNotYet      = "token not yet valid"
	msgNoExpiry    = "token has no expiry"
	msgIssuer      = "invalid token issuer"
	msgNoTenant    = "missing tenant"
	msgTenant      = "unknown tenant"
	msgKID         = "unknown signing key"
	msgNoRole      = "missing role"
	msgRole        = "unknown role"
	msgNoSubject   = "missing subject"
	msgUnverified  = "token cannot be verified"
	msgNoBearer    = "missing bearer token"
	msgScheme      = "unsupported authorization scheme"
	msgManyBearers = "more than one authorization header"
)

// claims is the payload of a Dwell token.
type claims struct {
	jwt.RegisteredClaims
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
}

// Errors returned by the key function inside Verify, told apart afterwards.
var (
	errNoTenant = errors.New("token has no tenant claim")
	errTenant   = errors.New("token names an unknown tenant")
	errKID      = errors.New("token header kid does not name the tenant's key")
)

// Mint returns a signed token for p, valid from now until now+ttl (exp,
// truncated to whole seconds). It returns a dwell.Invalid error if p has no
// role (or an unknown one), an empty subject or one that is not valid UTF-8,
// a malformed tenant id, or if ttl is not in (0, MaxTTL]; and a
// dwell.NotFound error if p.Tenant has no key.
func (k *Keyring) Mint(p dwell.Principal, ttl time.Duration, now time.Time) (string, error) {
	const op dwell.Op = "auth.Mint"
	if _, ok := dwell.ParseRole(p.Role.String()); !ok || p.Role == dwell.RoleUnspecified {
		return "", dwell.E(op, dwell.Invalid, "principal has no role")
	}
	if p.Subject == "" {
		return "", dwell.E(op, dwell.Invalid, "principal has no subject")
	}
	if !utf8.ValidString(p.Subject) {
		// JSON would replace the bad bytes, and Verify would return another
		// subject than the one minted.
		return "", dwell.E(op, dwell.Invalid, "subject is not valid UTF-8")
	}
	if ttl <= 0 || ttl > MaxTTL {
		return "", dwell.E(op, dwell.Invalid, "ttl must be positive and at most ten years")
	}
	if err := CheckTenantID(p.Tenant); err != nil {
		return "", dwell.E(op, err)
	}
	key := k.lookup(p.Tenant)
	if key == nil {
		return "", dwell.E(op, dwell.NotFound, "tenant has no signing key")
	}

	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   p.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        rand.Text(),
		},
		Tenant: string(p.Tenant),
		Role:   p.Role.String(),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = key.kid
	s, err := t.SignedString(key.secret)
	if err != nil {
		return "", dwell.E(op, err)
	}
	return s, nil
}

// Verify checks token as described in the package documentation, with now
// as the current time, and returns the principal it names, with the
// token's iat as IssuedAt (whole seconds, UTC). Every failure is
// a dwell.Unauthenticated error whose message is safe to show the caller.
func (k *Keyring) Verify(token string, now time.Time) (dwell.Principal, error) {
	p, _, err := k.VerifyUntil(token, now)
	return p, err
}

// VerifyUntil is Verify that also returns until, the instant from which
// Verify refuses the token as expired: its exp claim plus Leeway. A
// server holding a stream open on the token ends it then, so that no
// stream outlives the token that opened it by more than a call would.
func (k *Keyring) VerifyUntil(token string, now time.Time) (p dwell.Principal, until time.Time, err error) {
	const op dwell.Op = "auth.Verify"
	fail := func(msg string, err error) (dwell.Principal, time.Time, error) {
		// The reason tells apart the failures a client acts on
		// differently: an expired token is refreshed, one from the
		// future means a wrong clock; every other one is TOKEN_INVALID.
		reason := dwell.ReasonTokenInvalid
		switch msg {
		case msgExpired:
			reason = dwell.ReasonTokenExpired
		case msgNotYet:
			reason = dwell.ReasonTokenNotYetValid
		}
		if err == nil {
			return dwell.Principal{}, time.Time{}, dwell.E(op, dwell.Unauthenticated, reason, msg)
		}
		return dwell.Principal{}, time.Time{}, dwell.E(op, dwell.Unauthenticated, reason, msg, err)
	}
	if token == "" || len(token) > maxTokenBytes {
		return fail(msgMalformed, nil)
	}

	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{algHS256}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(Issuer),
		jwt.WithStrictDecoding(),
	)
	var c claims
	// The key function sees the decoded but unverified claims: it picks the
	// key by the tenant claim, and Parse then verifies the signature with
	// it, so a forged tenant claim fails the signature check.
	t, err := parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if c.Tenant == "" {
			return nil, errNoTenant
		}
		key := k.lookup(dwell.TenantID(c.Tenant))
		if key == nil {
			return nil, errTenant
		}
		if kid, _ := t.Header["kid"].(string); kid != key.kid {
			return nil, errKID
		}
		return key.secret, nil
	})
	if err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenMalformed):
			return fail(msgMalformed, err)
		case t != nil && t.Method != nil && t.Method.Alg() != algHS256:
			return fail(msgAlg, err)
		case errors.Is(err, errNoTenant):
			return fail(msgNoTenant, err)
		case errors.Is(err, errTenant):
			return fail(msgTenant, err)
		case errors.Is(err, errKID):
			return fail(msgKID, err)
		case errors.Is(err, jwt.ErrTokenUnverifiable):
			// No alg, or one this build of jwt does not know.
			return fail(msgAlg, err)
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			return fail(msgSignature, err)
		case errors.Is(err, jwt.ErrTokenExpired):
			return fail(msgExpired, err)
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return fail(msgNotYet, err)
		case c.ExpiresAt == nil:
			return fail(msgNoExpiry, err)
		case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
			return fail(msgIssuer, err)
		default:
			return fail(msgUnverified, err)
		}
	}
	if !t.Valid {
		return fail(msgUnverified, nil)
	}
	if c.Subject == "" {
		return fail(msgNoSubject, nil)
	}
	if c.Role == "" {
		return fail(msgNoRole, nil)
	}
	role, ok := dwell.ParseRole(c.Role)
	if !ok {
		return fail(msgRole, nil)
	}
	p = dwell.Principal{Tenant: dwell.TenantID(c.Tenant), Subject: c.Subject, Role: role}
	if c.IssuedAt != nil {
		p.IssuedAt = c.IssuedAt.UTC()
	}
	// ExpiresAt is set: the parser requires it (WithExpirationRequired).
	return p, c.ExpiresAt.Add(Leeway), nil
}
